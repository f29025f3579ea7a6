"""`python -m heapviz ostep`: OSTEP's malloc.py reproduced byte for byte, plus --explain.

The reference outputs live in ../shared/ostep-ref (beside the repository); those tests are
skipped with a reason when that folder is absent.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heapviz import ostep, render

REPO = Path(__file__).resolve().parents[1]
REF = Path(__file__).resolve().parents[2] / "shared" / "ostep-ref"


def run(argv: list[str] | str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    args = shlex.split(argv) if isinstance(argv, str) else argv
    capsys.readouterr()
    rc = ostep.run_cli(args)
    out, err = capsys.readouterr()
    return rc, out, err


# --------------------------------------------------------------------------------------------
# The reference corpus
# --------------------------------------------------------------------------------------------
def _references() -> list[Any]:
    index = REF / "INDEX.tsv"
    if not index.is_file():
        reason = f"the OSTEP reference outputs are not here ({index} is missing)"
        return [pytest.param("missing", "", marks=pytest.mark.skip(reason=reason))]
    rows = [line.split("\t") for line in index.read_text().splitlines() if line.strip()]
    return [pytest.param(name, opts, id=name) for name, opts in rows]


REFERENCES = _references()


def _mask(text: str, random_mode: bool) -> str:
    """What malloc.py prints without -c, from what it prints with -c."""
    listq = "List? " if random_mode else "List?"
    lines = []
    for line in text.split("\n"):
        if line == "compute True":
            line = "compute False"
        elif line.startswith("Free List [ Size "):
            line = listq
        elif line.startswith("returned "):
            line = "returned ?"
        else:
            line = re.sub(r" returned -?\d+ \(searched \d+ elements\)$", " returned ?", line)
        lines.append(line)
    return "\n".join(lines)


@pytest.mark.parametrize(("name", "opts"), REFERENCES)
def test_reference_output_byte_for_byte(
    name: str, opts: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, err = run(opts, capsys)
    assert (rc, err) == (0, "")
    assert out.encode() == (REF / name).read_bytes()


@pytest.mark.parametrize(("name", "opts"), REFERENCES)
def test_reference_with_answers_toggled(
    name: str, opts: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each reference run with -c toggled: the answers appear or turn into `?`, nothing else."""
    args = shlex.split(opts)
    random_mode = "-A" not in args
    want = (REF / name).read_bytes().decode()
    if "-c" in args:
        args.remove("-c")
        rc, out, _ = run(args, capsys)
        assert rc == 0 and out == _mask(want, random_mode)
    else:
        rc, out, _ = run([*args, "-c"], capsys)
        assert rc == 0 and _mask(out, random_mode) == want


# --------------------------------------------------------------------------------------------
# Output details that the corpus does not pin down
# --------------------------------------------------------------------------------------------
HEADER_DEFAULTS = (
    "seed 0\nsize 100\nbaseAddr 1000\nheaderSize 0\nalignment -1\npolicy BEST\n"
    "listOrder ADDRSORT\ncoalesce False\nnumOps 10\nrange 10\npercentAlloc 50\n"
    "allocList \ncompute False\n\n"
)


def test_defaults_and_header(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run("-n 0", capsys)
    assert rc == 0
    assert out == HEADER_DEFAULTS.replace("numOps 10", "numOps 0")


def test_optparse_integers_and_prefixes(capsys: pytest.CaptureFixture[str]) -> None:
    """optparse reads 0x/0o/0b/leading-0 integers and unique prefixes of long options."""
    _, out, _ = run("-s 0x10 -n 0", capsys)
    assert out.startswith("seed 16\n")
    _, out, _ = run("-s 010 -n 0", capsys)
    assert out.startswith("seed 8\n")
    _, out, _ = run("--se 3 --numO=0", capsys)
    assert out.startswith("seed 3\n") and "numOps 0\n" in out


def test_listed_ops_print_block_address_and_random_mode_adds_header(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out, _ = run("-H 4 -A +3,+200 -c", capsys)
    assert "ptr[0] = Alloc(3) returned 1000 (searched 1 elements)\n" in out
    assert "ptr[1] = Alloc(200) returned -1 (searched 1 elements)\n" in out
    _, out, _ = run("-H 4 -S 4 -n 1 -P 100 -c", capsys)  # every request fails: 4 + header > 4
    assert re.search(r"ptr\[0\] = Alloc\(\d+\) returned 3 \(searched 1 elements\)\n", out)


def test_invalid_free_prints_one_line_and_no_list(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run("-S 20 -A +30,+5,-1,-7 -c", capsys)
    assert rc == 0
    # Alloc 0 failed: only one pointer was recorded, so index 1 (valid!) is skipped too.
    assert out.endswith(
        "ptr[1] = Alloc(5) returned 1000 (searched 1 elements)\n"
        "Free List [ Size 1 ]: [ addr:1005 sz:15 ]\n\n"
        "Invalid Free: Skipping\nInvalid Free: Skipping\n"
    )


def test_operands_are_read_as_malloc_py_reads_them(capsys: pytest.CaptureFixture[str]) -> None:
    """`int(op.split('+')[1])`: the text up to a second sign, spaces and underscores allowed."""
    _, out, _ = run(["-A", "+3+4,+ 5,+1_0,-0-9", "-c"], capsys)
    calls = [line for line in out.split("\n") if line.startswith(("ptr[", "Free("))]
    assert [c.split(" returned")[0] for c in calls] == [
        "ptr[0] = Alloc(3)", "ptr[1] = Alloc(5)", "ptr[2] = Alloc(10)", "Free(ptr[0])",
    ]  # fmt: skip


def test_a_block_at_address_minus_one_counts_as_a_failure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out, _ = run("-b -1 -A +5,-0 -c", capsys)
    assert "ptr[0] = Alloc(5) returned -1 (searched 1 elements)\n" in out
    assert out.endswith("Invalid Free: Skipping\n")  # malloc.py dropped the pointer


def test_double_free_frees_by_address(capsys: pytest.CaptureFixture[str]) -> None:
    """A second free of ptr[0] frees ptr[1]'s block when it reuses the address."""
    _, out, _ = run("-A +10,-0,+10,-0,-1 -c", capsys)
    tail = out.split("\n\n")[-4:]
    assert tail[1].startswith("Free(ptr[0])\nreturned 0\n")
    assert tail[2].startswith("Free(ptr[1])\nreturned -1\n")


def test_sizesort_is_not_resorted_after_a_split(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run("-p WORST -l SIZESORT+ -A +10,+20,+30,-0,-2,+35 -c", capsys)
    last = out.rstrip("\n").split("\n")[-1]
    assert last == "Free List [ Size 3 ]: [ addr:1000 sz:10 ][ addr:1030 sz:30 ][ addr:1095 sz:5 ]"


def test_coalesce_only_merges_list_neighbours(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run("-l SIZESORT- -C -A +10,+50,-0,-1 -c", capsys)
    # [1010 sz:50] merges with the entry after it; [1000 sz:10] touches the result in memory
    # but comes after it in the size-sorted list, so the one pass leaves it apart
    assert out.rstrip("\n").endswith("[ addr:1010 sz:90 ][ addr:1000 sz:10 ]")
    _, out, _ = run("-C -A +10,+10,+10,-0,-2,-1 -c", capsys)
    assert out.rstrip("\n").endswith("Free List [ Size 1 ]: [ addr:1000 sz:100 ]")


def test_alignment_rounds_before_adding_the_header(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run("-a 8 -H 4 -A +1,+8,+9 -c", capsys)
    assert "Free List [ Size 1 ]: [ addr:1012 sz:88 ]" in out  # 1 -> 8 + 4
    assert "Free List [ Size 1 ]: [ addr:1024 sz:76 ]" in out  # 8 -> 8 + 4
    assert "Free List [ Size 1 ]: [ addr:1044 sz:56 ]" in out  # 9 -> 16 + 4


@pytest.mark.parametrize("order", ostep.ORDERS)
def test_every_list_order_puts_freed_blocks_where_it_says(
    order: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(["-p", "FIRST", "-l", order, "-A", "+10,+20,+5,-1,-0", "-c"], capsys)
    last = out.rstrip("\n").split("\n")[-1].split(": ", 1)[1]
    want = {
        "ADDRSORT": "[ addr:1000 sz:10 ][ addr:1010 sz:20 ][ addr:1035 sz:65 ]",
        "SIZESORT+": "[ addr:1000 sz:10 ][ addr:1010 sz:20 ][ addr:1035 sz:65 ]",
        "SIZESORT-": "[ addr:1035 sz:65 ][ addr:1010 sz:20 ][ addr:1000 sz:10 ]",
        "INSERT-FRONT": "[ addr:1000 sz:10 ][ addr:1010 sz:20 ][ addr:1035 sz:65 ]",
        "INSERT-BACK": "[ addr:1035 sz:65 ][ addr:1010 sz:20 ][ addr:1000 sz:10 ]",
    }
    assert last == want[order]


def test_help_is_malloc_py_help_plus_additions(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    rc, out, _ = run("--help", capsys)
    assert rc == 0
    assert out.startswith("Usage: python -m heapviz ostep [options]\n\nOptions:\n")
    assert MALLOC_PY_OPTIONS_HELP in out
    for extra in ("--explain", "--png=DIR", "--view"):
        assert extra in out.split("heapviz additions:")[1]


MALLOC_PY_OPTIONS_HELP = """\
  -h, --help            show this help message and exit
  -s SEED, --seed=SEED  the random seed
  -S HEAPSIZE, --size=HEAPSIZE
                        size of the heap
  -b BASEADDR, --baseAddr=BASEADDR
                        base address of heap
  -H HEADERSIZE, --headerSize=HEADERSIZE
                        size of the header
  -a ALIGNMENT, --alignment=ALIGNMENT
                        align allocated units to size; -1->no align
  -p POLICY, --policy=POLICY
                        list search (BEST, WORST, FIRST)
  -l ORDER, --listOrder=ORDER
                        list order (ADDRSORT, SIZESORT+, SIZESORT-, INSERT-
                        FRONT, INSERT-BACK)
  -C, --coalesce        coalesce the free list?
  -n OPSNUM, --numOps=OPSNUM
                        number of random ops to generate
  -r OPSRANGE, --range=OPSRANGE
                        max alloc size
  -P OPSPALLOC, --percentAlloc=OPSPALLOC
                        percent of ops that are allocs
  -A OPSLIST, --allocList=OPSLIST
                        instead of random, list of ops (+10,-0,etc)
  -c, --compute         compute answers for me
"""


# --------------------------------------------------------------------------------------------
# Where malloc.py crashes: the same stdout up to that point, one clear line, status 2
# --------------------------------------------------------------------------------------------
ERROR_CASES = [
    # (argv, the stdout malloc.py printed before its traceback ends with, a piece of the error)
    ("-S 20 -A +30,+5,-0 -c", "Free(ptr[0])\n", "Alloc number 0 failed"),
    ("-A +10,x", "List?\n\n", "bad operand 'x'"),
    ("-A +10, -c", "sz:90 ]\n\n", "an empty operation"),
    ("-A ,", "compute False\n\n", "an empty operation"),
    ("-A +", "compute False\n\n", "'' is not a number"),
    ("-A +1e3", "compute False\n\n", "'1e3' is not a number (expected +Size)"),
    ("-A --1", "compute False\n\n", "(expected -Index)"),
    ("-A +0,+0 -c", "sz:100 ]\n\n", "would hand out address 1000 again"),
    ("-P 0 -A +1", "compute False\n\n", "option -P"),
    ("-P -5", "compute False\n\n", "must be above 0"),
]
OPTION_ERRORS = [
    ("-p NEXT", "invalid policy 'NEXT'"),
    ("-l RANDOM", "invalid list order 'RANDOM'"),
    ("-a 0", "alignment must be -1"),
    ("-a -2", "alignment must be -1"),
    ("-s x", "option -s: invalid integer value: 'x'"),
    ("-s", "-s option requires 1 argument"),
    ("--s 1", "ambiguous option: --s (--seed, --size?)"),
    ("-x", "no such option: -x"),
]


@pytest.mark.parametrize(("argv", "stdout_tail", "message"), ERROR_CASES)
def test_crashes_become_clear_errors(
    argv: str, stdout_tail: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, err = run(argv, capsys)
    assert rc == 2
    assert out.endswith(stdout_tail)
    assert err.startswith("python -m heapviz ostep: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(("argv", "message"), OPTION_ERRORS)
def test_bad_options_are_optparse_errors(
    argv: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, err = run(argv, capsys)
    assert (rc, out) == (2, "")
    usage, blank, error, end = err.split("\n")
    assert (usage, blank, end) == ("Usage: python -m heapviz ostep [options]", "", "")
    assert error.startswith("python -m heapviz ostep: error: ") and message in error


def test_command_line_end_to_end() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "heapviz", "ostep", "-S", "20", "-A", "+30,+5,-0", "-c"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env)
    assert done.returncode == 2
    assert done.stdout.endswith("Free(ptr[0])\n")
    assert "Traceback" not in done.stderr and "Alloc number 0 failed" in done.stderr
    ok = subprocess.run([*cmd[:4], "-c"], cwd=REPO, capture_output=True, text=True, env=env)
    assert ok.returncode == 0 and ok.stdout.startswith("seed 0\n")


# --------------------------------------------------------------------------------------------
# --explain
# --------------------------------------------------------------------------------------------
def _explained(argv: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The explanation lines of each step."""
    rc, out, _ = run(argv + " --explain", capsys)
    assert rc == 0
    blocks = out.split("\n\n")[1:]
    return [
        " ".join(line[8:] for line in b.split("\n") if line.startswith(("  why:", "  then:")))
        for b in blocks
        if b
    ]


def test_explain_keeps_malloc_py_lines(capsys: pytest.CaptureFixture[str]) -> None:
    _, plain, _ = run("-s 2 -C -c", capsys)
    _, explained, _ = run("-s 2 -C -c --explain", capsys)
    kept = [x for x in explained.split("\n") if not x.startswith(("  why:", "  then:"))]
    assert "\n".join(kept) == plain


def test_explain_best_fit(capsys: pytest.CaptureFixture[str]) -> None:
    why = _explained("-A +3,+7,+1,-1,-0,+7 -c", capsys)
    assert why[5] == (
        "BEST fit searched all 3 entries; the smallest that holds 7 bytes is "
        "[ addr:1003 sz:7 ]. It fits exactly, so the whole entry goes to ptr[3] and leaves "
        "the free list."
    )


def test_explain_first_and_worst_fit_and_split(capsys: pytest.CaptureFixture[str]) -> None:
    why = _explained("-p FIRST -A +3,+7,+1,-0,-2,+1 -c", capsys)
    assert why[5].startswith(
        "FIRST fit stopped at entry 1 of the list (1 searched): the first that holds 1 bytes "
        "is [ addr:1000 sz:3 ]. It was split: 1 bytes at 1000 go to ptr[3]"
    )
    why = _explained("-p WORST -A +3,+7,-0,+1 -c", capsys)
    assert "the largest that holds 1 bytes is [ addr:1010 sz:90 ]" in why[3]


def test_explain_alignment_header_and_failure(capsys: pytest.CaptureFixture[str]) -> None:
    why = _explained("-S 16 -H 4 -a 4 -A +5,+1 -c", capsys)
    assert "12 bytes (5 rounded up to 8 for alignment 4, plus a 4-byte header)" in why[0]
    assert why[1] == (
        "BEST fit searched 1 entry and none holds 8 bytes (1 rounded up to 4 for alignment 4, "
        "plus a 4-byte header): the largest has 4, so the allocation fails and returns -1."
    )


def test_explain_free_and_coalesce(capsys: pytest.CaptureFixture[str]) -> None:
    why = _explained("-C -A +10,+10,-0,-1 -c", capsys)
    assert why[2].startswith(
        "Free puts ptr[0]'s block [ addr:1000 sz:10 ] back on the list, kept in address "
        "order: position 1 of 2."
    )
    assert why[3].endswith(
        "Coalescing merged list neighbours that touch: [ addr:1000 sz:10 ] + "
        "[ addr:1010 sz:10 ] -> [ addr:1000 sz:20 ]; [ addr:1000 sz:20 ] + "
        "[ addr:1020 sz:80 ] -> [ addr:1000 sz:100 ]."
    )
    why = _explained("-A +10,-0 -c", capsys)
    assert why[1].endswith("Without -C nothing is coalesced, so [ addr:1000 sz:10 ] and "
                           "[ addr:1010 sz:90 ] stay apart although they touch.")  # fmt: skip
    why = _explained("-l SIZESORT- -C -A +10,+50,-0,-1 -c", capsys)
    assert why[3].endswith(
        "Coalescing merged list neighbours that touch: [ addr:1010 sz:50 ] + [ addr:1060 sz:40 ]"
        " -> [ addr:1010 sz:90 ]; [ addr:1000 sz:10 ] and [ addr:1010 sz:90 ] also touch in "
        "memory, but malloc.py only merges an entry into the one just before it in the list."
    )


def test_explain_quirks(capsys: pytest.CaptureFixture[str]) -> None:
    why = _explained("-S 20 -A +30,+5,-1 -c", capsys)
    assert why[2].startswith("Index 1 is not below 1, the number of successful allocations")
    assert "even though ptr[1] is allocated" in why[2]
    why = _explained("-A +10,-0,+10,-0 -c", capsys)
    assert why[3].startswith(
        "Address 1000 in ptr[0] now belongs to ptr[1] and malloc.py frees by address, so free "
        "puts ptr[1]'s block [ addr:1000 sz:10 ] back on the list"
    )
    why = _explained("-p WORST -l SIZESORT+ -A +10,+20,+30,-0,-2,+35 -c", capsys)
    assert "does not re-sort the list after a split" in why[5]
    why = _explained("-H 4 -S 4 -n 1 -P 100 -c", capsys)
    assert why[0].endswith("(printed as -1 + the header size: 3).")


# --------------------------------------------------------------------------------------------
# The core and the Step data
# --------------------------------------------------------------------------------------------
def test_core_reports_what_happened() -> None:
    fs = ostep.FreeSpace(size=100, base=1000, policy="BEST", coalesce=True)
    a = fs.alloc(10)
    assert (a.addr, a.need, a.searched, a.index) == (1000, 10, 1, 0)
    assert a.chosen == ostep.Entry(1000, 100) and a.remainder == ostep.Entry(1010, 90)
    b = fs.alloc(90)
    assert b.remainder is None and fs.free_list == []
    r = fs.free(1000)
    assert (r.rc, r.block, r.position, r.merges) == (0, ostep.Entry(1000, 10), 0, ())
    r = fs.free(1010)
    assert r.merges == (ostep.Merge(ostep.Entry(1000, 10), ostep.Entry(1010, 90)),)
    assert r.merges[0].merged == ostep.Entry(1000, 100)
    assert fs.free(1010).rc == -1
    with pytest.raises(ostep.OstepError, match="invalid policy"):
        ostep.FreeSpace(policy="NEXT")


def test_steps_are_plain_data() -> None:
    opts = ostep.Options(alloc_list="+10,+20,-0", header_size=4, coalesce=True)
    run_ = ostep.steps(opts)
    assert [s.kind for s in run_] == ["start", "alloc", "alloc", "free"]
    start, _, second, freed = run_
    assert start.free_list == (ostep.Entry(1000, 100),) and start.blocks == ()
    assert second.blocks == (ostep.Block(0, 1000, 14, 10), ostep.Block(1, 1014, 24, 20))
    assert freed.free_list == (ostep.Entry(1000, 14), ostep.Entry(1038, 62))
    assert freed.blocks == (ostep.Block(1, 1014, 24, 20),)
    assert freed.explanation and freed.release is not None and freed.release.rc == 0


def test_png_and_view_need_the_renderer(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(render, "_renderer", None)  # as when heapviz was built without SDL2
    rc, out, err = run(["--png", str(tmp_path), "-c"], capsys)
    assert (rc, out) == (2, "")
    assert "not available yet" in err and "Traceback" not in err
    rc, out, err = run(["--view", "-c"], capsys)
    assert (rc, out) == (2, "")  # said before any output
    assert "--view" in err and "not available yet" in err and "Traceback" not in err


def test_png_draws_every_step_with_heapviz_render(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    drawn: list[Any] = []
    fake = ModuleType("heapviz.render")
    fake.available = lambda: True  # type: ignore[attr-defined]
    fake.render_png = lambda state, path, **kw: drawn.append((state, path, kw))  # type: ignore[attr-defined]
    monkeypatch.setattr(ostep, "render", fake)
    rc, out, err = run(["--png", str(tmp_path / "pics"), "-A", "+10,-0", "-c"], capsys)
    assert rc == 0
    assert [path for _, path, _ in drawn] == [
        tmp_path / "pics" / f"step-{i:03d}.png" for i in range(3)
    ]
    assert (tmp_path / "pics").is_dir()
    assert [state["op"] for state, _, _ in drawn] == [0, 1, 2]
    assert drawn[1][2]["vars"] == {"ptr[0]": 1000}
    assert out == ostep.header_text(ostep.Options(alloc_list="+10,-0", compute=True)) + (
        "ptr[0] = Alloc(10) returned 1000 (searched 1 elements)\n"
        "Free List [ Size 1 ]: [ addr:1010 sz:90 ]\n\n"
        "Free(ptr[0])\nreturned 0\nFree List [ Size 2 ]: [ addr:1000 sz:10 ][ addr:1010 sz:90 ]\n\n"
    )  # stdout stays malloc.py's
    assert err == f"wrote 3 pictures to {tmp_path / 'pics'}\n"


def test_png_with_the_c_renderer(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    render = pytest.importorskip("heapviz.render", reason="heapviz's renderer does not import")
    if not render.available():
        pytest.skip("heapviz's C renderer is not built")
    rc, _, err = run(["-s", "1", "-C", "-H", "4", "-a", "4", "-c", "--png", str(tmp_path)], capsys)
    assert rc == 0 and err.startswith("wrote 11 pictures")
    pictures = sorted(tmp_path.glob("step-*.png"))
    assert len(pictures) == 11
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pictures)


def test_picture_states_model_the_ostep_list() -> None:
    opts = ostep.Options(alloc_list="+5,+10,-0", header_size=4, alignment=4, coalesce=True)
    start, a, b, freed = ostep.picture_states(ostep.steps(opts), opts)
    assert start["blocks"] == [{"addr": 1000, "size": 100, "state": "free", "marks": 0}]
    assert (start["heap_base"], start["brk"], start["header_size"]) == (1000, 1100, 4)
    assert (start["footer_size"], start["align"], start["order"]) == (0, 4, "address")
    assert a["blocks"][0] == {
        "addr": 1000, "size": 12, "state": "allocated", "payload": 1004, "requested": 5,
        "marks": 16,
    }  # fmt: skip
    assert b["vars"] == {"ptr[0]": 1004, "ptr[1]": 1016}
    assert freed["free_lists"] == [[1000, 1028]]
    assert freed["blocks"][0]["marks"] == 1  # just freed
    assert freed["stats"]["n_split"] == 2 and freed["stats"]["free_bytes"] == 84
    assert freed["log"] == [
        "ptr[0] = Alloc(5) returned 1000 (searched 1 elements)",
        "ptr[1] = Alloc(10) returned 1012 (searched 1 elements)",
        "Free(ptr[0]) returned 0",
        "Free puts ptr[0]'s block [ addr:1000 sz:12 ] back on the list, kept in address order: "
        "position 1 of 2.",
        "Coalescing merged nothing.",
    ]
    with pytest.raises(ostep.OstepError, match="cannot draw"):
        ostep.picture_states(ostep.steps(ostep.Options(alloc_list="+0")), ostep.Options())


def test_argparse_integration() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    ostep.configure(parser)  # `python -m heapviz --help` lists the subcommand
    assert parser.parse_args([]).ostep_args == []
    assert ostep.main(argparse.Namespace(ostep_args=["-n", "0"])) == 0


# --------------------------------------------------------------------------------------------
# Property tests
# --------------------------------------------------------------------------------------------
valid_options = st.builds(
    ostep.Options,
    seed=st.integers(-(10**6), 10**6),
    heap_size=st.integers(1, 300),
    base=st.integers(0, 10**5),
    header_size=st.integers(0, 16),
    alignment=st.sampled_from([-1, 1, 2, 3, 4, 8, 16]),
    policy=st.sampled_from(ostep.POLICIES),
    order=st.sampled_from(ostep.ORDERS),
    coalesce=st.booleans(),
    num_ops=st.integers(0, 40),
    max_size=st.integers(1, 64),
    percent_alloc=st.integers(1, 100),
    compute=st.booleans(),
    explain=st.booleans(),
)


def _argv(o: ostep.Options) -> list[str]:
    argv = [
        f"-s{o.seed}", f"-S{o.heap_size}", f"-b{o.base}", f"-H{o.header_size}",
        f"-a{o.alignment}", f"-p{o.policy}", f"-l{o.order}", f"-n{o.num_ops}",
        f"-r{o.max_size}", f"-P{o.percent_alloc}",
    ]  # fmt: skip
    if o.alloc_list:
        argv.append(f"-A{o.alloc_list}")
    for flag, on in (("-C", o.coalesce), ("-c", o.compute), ("--explain", o.explain)):
        if on:
            argv.append(flag)
    return argv


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_options)
def test_random_valid_options_never_fail(o: ostep.Options) -> None:
    """Random mode with valid options (sizes >= 1) always runs to the end."""
    run_ = ostep.steps(o)
    assert sum(1 for s in run_ if s.kind != "start") == max(o.num_ops, 0)
    for step in run_:
        _check_tiling(step, o)
    rc = ostep.run_cli(_argv(o))
    assert rc == 0


op_lists = st.lists(
    st.one_of(st.integers(1, 40).map(lambda n: f"+{n}"), st.integers(0, 12).map(lambda k: f"-{k}")),
    min_size=1,
    max_size=25,
)


def _check_tiling(step: Any, o: ostep.Options) -> None:
    """Free entries and allocated blocks tile [base, base + size) without overlap."""
    pieces = sorted([(e.addr, e.size) for e in step.free_list] + [(b.addr, b.size) for b in
                    step.blocks])  # fmt: skip
    at = o.base
    for addr, size in pieces:
        assert addr == at and size > 0, (step, pieces)
        at += size
    assert at == o.base + o.heap_size


@settings(max_examples=200, deadline=None)
@given(valid_options, op_lists)
def test_op_lists_keep_the_list_consistent(o: ostep.Options, ops: list[str]) -> None:
    from dataclasses import replace

    o = replace(o, alloc_list=",".join(ops))
    run_: list[Any] = []
    try:
        for step in ostep.simulate(o):
            run_.append(step)
    except ostep.BadFree as exc:
        # the only way valid operations end a run: freeing the index of a failed allocation
        failed = {s.ptr for s in run_ if s.kind == "alloc" and not s.placement.counted}
        assert exc.ptr in failed
    for step in run_:
        _check_tiling(step, o)
    if o.order == "ADDRSORT" and o.coalesce:
        for step in run_:
            addrs = [e.addr for e in step.free_list]
            assert addrs == sorted(addrs)
            assert all(
                a.end != b.addr for a, b in zip(step.free_list, step.free_list[1:], strict=False)
            )
        # free every live block (in the core: -A cannot name them all): one entry is left
        fs = ostep.FreeSpace(o.heap_size, o.base, o.header_size, o.policy, o.order, True, -1)
        fs.free_list = list(run_[-1].free_list)
        fs.allocated = {b.addr: b.size for b in run_[-1].blocks}
        for b in run_[-1].blocks:
            assert fs.free(b.addr).rc == 0
        assert fs.free_list == [ostep.Entry(o.base, o.heap_size)]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_any_op_list_text_gives_output_or_a_clear_error(text: str) -> None:
    try:
        ostep.steps(ostep.Options(alloc_list=text))
    except ostep.OstepError as exc:
        assert str(exc)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["-s", "-S", "-b", "-H", "-a", "-p", "-l", "-C", "-n", "-r", "-P",
                             "-A", "-c", "--explain", "--seed", "--size=3", "-x", "--"]),
            st.integers(-20, 200).map(str),
            st.sampled_from(["BEST", "FIRST", "WORST", "ADDRSORT", "SIZESORT-", "+5,-0", "x"]),
        ),
        max_size=10,
    )
)  # fmt: skip
def test_any_argv_gives_output_or_a_clear_error(argv: list[str]) -> None:
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = ostep.run_cli(argv)
    assert rc in (0, 2)
    assert (rc == 2) == bool(err.getvalue()) and "Traceback" not in err.getvalue()
