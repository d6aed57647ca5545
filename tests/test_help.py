"""Help that teaches: every sub-command's --help ends with examples, shared flags read the
same everywhere, `vsr models` fits 80 columns and marks the default, and what is not
going to a terminal is never wrapped in mid-line."""

import argparse
import io
import json
import re

import pytest
from rich.console import Console

from vsr.cli import build_parser, main
from vsr.commands.models import default_model_name, print_tables
from vsr.weights import registry


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_every_help_ends_with_two_to_four_examples(name, capsys):
    with pytest.raises(SystemExit):
        main([name, "--help"])
    text = capsys.readouterr().out
    tail = text[text.rindex("examples:") :].splitlines()[1:]
    commands = [line.strip() for line in tail if line.startswith("  ") and not line.startswith("    ")]
    assert 2 <= len(commands) <= 4, text
    assert all(re.match(r"(vsr|ffmpeg) ", c) for c in commands) and any(c.startswith(f"vsr {name}") for c in commands)
    for command in commands:  # each example parses as written (pipes: the vsr part)
        argv = command.split("| vsr ")[1 if "| vsr " in command else 0].split("|")[0].split()
        argv = argv[1:] if argv[0] == "vsr" else argv
        args = build_parser().parse_args([a.strip("'") for a in argv])
        assert args.command == name


def test_shared_flags_have_one_metavar_everywhere():
    metavars: dict[str, dict[str, str | None]] = {}
    for name, parser in subcommands().items():
        for action in parser._actions:
            if action.option_strings and action.nargs != 0:
                metavars.setdefault(action.option_strings[-1], {})[name] = action.metavar
    differing = {flag: by for flag, by in metavars.items() if len(set(by.values())) > 1}
    assert differing == {}


@pytest.mark.parametrize("name", ["image", "live"])  # bench has --preset: it times what upscale runs
def test_scale_help_names_no_preset_where_there_is_none(name):
    parser = subcommands()[name]
    assert not any(a.option_strings == ["--preset"] for a in parser._actions)
    scale = next(a for a in parser._actions if "--scale" in a.option_strings)
    model = next(a for a in parser._actions if "--model" in a.option_strings)
    assert "preset" not in scale.help and "preset" not in model.help
    assert "preset" in next(a for a in subcommands()["upscale"]._actions if "--scale" in a.option_strings).help


def test_models_fits_80_columns_and_never_wraps_a_name():
    out = io.StringIO()
    known, default = registry(), default_model_name()
    print_tables(Console(file=out, width=80, force_terminal=False, soft_wrap=False), known, default)
    lines = out.getvalue().splitlines()
    assert max(map(len, lines)) <= 80
    for entry in known.entries:  # each name whole on one line
        assert any(re.search(rf"(^|\s){re.escape(entry.name)}(\s|$)", line) for line in lines), entry.name
    marked = [line for line in lines if line.lstrip().startswith("* ") and line.split()[1] in {e.name for e in known.entries}]
    assert [line.split()[1] for line in marked] == [default]


def test_models_json_marks_this_machines_default(capsys, tmp_path):
    assert main(["models", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    defaults = [w["name"] for w in listing["weights"] if w["default"]]
    assert defaults == [listing["default"]] == [default_model_name()]
    assert all(w["here"] for w in listing["weights"] if w["source"] == "shipped")
    assert main(["models", "--json", str(tmp_path / "m.json")]) == 0
    assert json.loads((tmp_path / "m.json").read_text()) == listing


def test_messages_to_a_pipe_are_not_wrapped_in_mid_line(tmp_path, capsys):
    from media import make_clip

    src = make_clip(tmp_path / "a-rather-long-file-name-so-that-the-start-line-passes-eighty-columns.mkv", size=(32, 24), frames=2)
    assert main(["upscale", str(src), "-o", str(tmp_path / "out.mkv"), "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    start = next(line for line in err.splitlines() if line.startswith(str(src)))
    assert len(start) > 80 and "on cpu" in start  # the whole start line, as one line
