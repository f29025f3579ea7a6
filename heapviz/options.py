"""The heap's options, described once: name, type, allowed values, default and help.

Every way of making a heap reads this table and nothing else:

* ``Heap(...)`` binds and checks its arguments with ``bind()`` (its signature is
  ``signature()``), and hands the core its keywords with ``core_kwargs()``;
* every subcommand that makes a heap gets the same flags from ``add_arguments()`` (``--policy``,
  ``--max-size``, ``--footer/--no-footer``…) and reads them back with ``from_args()``;
* a scenario's ``heap policy=best size=8K`` line and a recording's header are parsed with
  ``parse()`` and checked with ``check_saved()``.

The allowed policies, free-list orders and coalescing modes are the core's own names
(``_core.POLICY_NAMES``…: their index is the C enum value), so Python cannot disagree with C.

Sizes written as text (``4096``, ``0x1000``, ``4K``, ``2MiB``) go through ``heapviz.sizes``.

    >>> OPTIONS["policy"].choices
    ('first', 'next', 'best', 'worst', 'segregated', 'buddy')
    >>> bind((), {"policy": "best"})["policy"]
    'best'
    >>> parse("size", "8K")
    8192
"""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from heapviz import _core, sizes

KiB = 1024
MiB = 1024 * KiB

POLICIES: tuple[str, ...] = tuple(_core.POLICY_NAMES)
ORDERS: tuple[str, ...] = tuple(_core.ORDER_NAMES)
COALESCE: tuple[str, ...] = tuple(_core.COALESCE_NAMES)
# The binding's checking modes, in the order of their numbers (_core.CHECKS_*).
CHECKS: tuple[str, ...] = tuple(name for _, name in sorted(
    [(_core.CHECKS_STRICT, "strict"), (_core.CHECKS_REPORT, "report"),
     (_core.CHECKS_OFF, "off")]))
ALIGNS = (4, 8, 16)

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


@dataclass(frozen=True)
class Option:
    """One option of a heap.

    `kind` is "choice" (one of `choices`), "bytes" (a whole number of bytes, at least
    `minimum`), "count" (a whole number, a power of two) or "bool".  `positional` options
    may be given in order (``Heap(4096, policy="best")``); `saved` ones are part of a heap's
    configuration as recordings, scenario headers and the command line write it (the rest
    tune recording and debugging)."""

    name: str
    kind: str
    default: Any
    help: str
    choices: tuple[Any, ...] = ()
    minimum: int = 0
    positional: bool = False
    saved: bool = True
    metavar: str = "BYTES"

    @property
    def flag(self) -> str:
        """The command-line spelling: --max-size for max_size."""
        return "--" + self.name.replace("_", "-")

    def check(self, value: Any) -> Any:
        """The value as Heap(...) takes it, or TypeError/ValueError/OverflowError saying
        what is allowed."""
        n = self.name
        if self.kind == "bool":
            return bool(value)
        if self.kind == "choice":
            if value not in self.choices or isinstance(value, bool):
                shown = ", ".join(repr(a) for a in self.choices)
                raise ValueError(f"Heap({n}={value!r}): {n} must be one of {shown}")
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"Heap({n}=…) takes an int number of bytes, not "
                            f"{type(value).__name__}")
        if self.kind == "count" and (value <= 0 or value & (value - 1)):
            raise ValueError(f"Heap({n}={value}): must be a power of two")
        if value < self.minimum:
            raise ValueError(f"Heap({n}={value}): must be at least {self.minimum}")
        if value >= 1 << 62:
            raise OverflowError(f"Heap({n}={value}): far too large")
        return value

    def parse(self, text: str) -> Any:
        """The value written as text (a command line, a scenario header); ValueError."""
        if self.kind == "bool":
            low = text.lower()
            if low not in _TRUE + _FALSE:
                raise ValueError(f"{text!r} is not true or false")
            return low in _TRUE
        if self.kind == "choice":
            for a in self.choices:
                if text == str(a):
                    return a
            raise ValueError(f"{self.name} must be one of "
                             f"{', '.join(map(str, self.choices))}, not {text!r}")
        return sizes.parse_size(text)


def _choice(name: str, choices: tuple[Any, ...], default: Any, help: str,
            positional: bool = True) -> Option:
    return Option(name, "choice", default, help, choices, positional=positional)


# The order of the positional options is Heap()'s argument order: never change it.
_TABLE: tuple[Option, ...] = (
    Option("size", "bytes", 4 * KiB, "initial heap, from its start to the break (4K, 8192…)",
           positional=True),
    Option("max_size", "bytes", 64 * MiB, "reservation the heap may grow to", minimum=4096,
           positional=True),
    _choice("policy", POLICIES, "first", "placement policy"),
    _choice("order", ORDERS, "address", "free-list order of the fit policies"),
    _choice("coalesce", COALESCE, "immediate", "when free blocks merge"),
    _choice("align", ALIGNS, 16, "payload alignment"),
    Option("base", "bytes", 0x10000, "address of the heap start (a multiple of 4096)",
           minimum=4096, positional=True, metavar="ADDR"),
    Option("mmap_threshold", "bytes", 128 * KiB,
           "requests this large get their own mapping (0: never)", positional=True),
    _choice("checks", CHECKS, "strict",
            "strict: errors raise; report: reported, the run goes on; off: not checked"),
    Option("split_threshold", "bytes", 0, "do not split off a remainder smaller than this"),
    Option("footer", "bool", True, "a boundary tag (footer) on every block"),
    Option("magic", "bool", False, "a magic number in every header"),
    Option("stack_size", "bytes", 64 * KiB, "bytes of the simulated stack (h.frame())",
           minimum=4096),
    Option("record", "bool", True, "record every operation (the history, the timeline)",
           saved=False),
    Option("history_limit", "bytes", 1_000_000, "events kept in the history", saved=False,
           metavar="N"),
    Option("ring_capacity", "count", 1 << 20, "events in the shared ring (a power of two)",
           saved=False, metavar="N"),
    Option("debug", "bool", False, "check every invariant after every operation (slow)",
           saved=False),
)

OPTIONS: dict[str, Option] = {o.name: o for o in _TABLE}
DEFAULTS: dict[str, Any] = {o.name: o.default for o in _TABLE}
SAVED: tuple[str, ...] = tuple(o.name for o in _TABLE if o.saved)
# The option names of each choice, for whoever lists them (choices -> allowed values).
CHOICES: dict[str, tuple[Any, ...]] = {o.name: o.choices for o in _TABLE if o.kind == "choice"}


# --------------------------------------------------------------------------------------------
# Heap(...)
# --------------------------------------------------------------------------------------------
def signature() -> inspect.Signature:
    """Heap.__init__'s signature, built from the table (help(), inspect, IDEs read it)."""
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    for o in _TABLE:
        kind = (inspect.Parameter.POSITIONAL_OR_KEYWORD if o.positional
                else inspect.Parameter.KEYWORD_ONLY)
        params.append(inspect.Parameter(o.name, kind, default=o.default,
                                        annotation=type(o.default).__name__))
    return inspect.Signature(params, return_annotation="None")


def bind(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Heap(*args, **kwargs) as a checked dict of every option (defaults filled in).

    TypeError for an unknown or repeated keyword (as Python says it), ValueError,
    TypeError or OverflowError naming the option for a bad value."""
    positional = [o.name for o in _TABLE if o.positional]
    if len(args) > len(positional):
        raise TypeError(f"Heap() takes at most {len(positional)} positional arguments "
                        f"({len(args)} given)")
    given = dict(zip(positional, args, strict=False))
    for k, v in kwargs.items():
        if k not in OPTIONS:
            raise TypeError(f"Heap() got an unexpected keyword argument {k!r}")
        if k in given:
            raise TypeError(f"Heap() got multiple values for argument {k!r}")
        given[k] = v
    cfg = {o.name: o.check(given.get(o.name, o.default)) for o in _TABLE}
    if cfg["size"] > cfg["max_size"]:
        raise ValueError(f"Heap(size={cfg['size']}, max_size={cfg['max_size']}): the "
                         "initial heap cannot be larger than the reservation")
    if cfg["base"] % 4096:
        raise ValueError(f"Heap(base={cfg['base']:#x}): base must be a multiple of the "
                         "page size (4096)")
    return cfg


def core_kwargs(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The keywords of the C type (_core.Heap): choices as the core's enum numbers."""
    out = {k: v for k, v in cfg.items() if k != "debug"}
    for name, choices in CHOICES.items():
        if name != "align":
            out[name] = choices.index(cfg[name])
    out.update(shadow=True, debug_check=bool(cfg["debug"]))
    return out


def checks_index(mode: Any) -> int:
    """The binding's number of a checking mode (for h.checks = …)."""
    return CHOICES["checks"].index(OPTIONS["checks"].check(mode))


# --------------------------------------------------------------------------------------------
# Text: scenario headers, recordings
# --------------------------------------------------------------------------------------------
def parse(name: str, text: str) -> Any:
    """An option's value written as text; KeyError for an unknown name, ValueError."""
    return OPTIONS[name].parse(text)


def check_saved(cfg: Any, err: Callable[[str], Exception]) -> dict[str, Any]:
    """A saved configuration (a recording's header) checked, with the defaults filled in;
    err(reason) makes the exception raised for what is wrong."""
    if not isinstance(cfg, dict):
        raise err("the header's config is not an object")
    out = {k: DEFAULTS[k] for k in SAVED}
    for key, value in cfg.items():
        o = OPTIONS.get(key) if key in SAVED else None
        if o is None:
            raise err(f"the config has an unknown field {str(key)[:40]!r}")
        if o.kind == "choice":
            if value not in o.choices or isinstance(value, bool):
                raise err(f"config {key}={str(value)[:40]!r} is not one of "
                          f"{', '.join(map(str, o.choices))}")
        elif o.kind == "bool":
            if not isinstance(value, bool):
                raise err(f"config {key} must be true or false")
        elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1 << 62:
            raise err(f"config {key} must be a whole number of bytes")
        out[key] = value
    return out


def saved(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a configuration that recordings and scenario headers keep."""
    return {k: cfg[k] for k in SAVED if k in cfg}


def describe(cfg: Mapping[str, Any]) -> str:
    """One line a student reads: 'policy first, order address, coalesce immediate, align 16,
    4096-byte heap'."""
    o = {**DEFAULTS, **cfg}
    return (f"policy {o['policy']}, order {o['order']}, coalesce {o['coalesce']}, "
            f"align {o['align']}, {o['size']}-byte heap")


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser, *, exclude: Iterable[str] = (),
                  defaults: Mapping[str, Any] | None = None,
                  title: str = "heap options (override the file's own)") -> None:
    """Every saved option as a flag (--policy, --max-size, --footer/--no-footer…), spelled
    the same in every subcommand.  `defaults` gives a subcommand's own defaults (else a flag
    left out is None: the file's own value, or Heap's default)."""
    skip, own = set(exclude), dict(defaults or {})
    g = parser.add_argument_group(title)
    for o in _TABLE:
        if not o.saved or o.name in skip:
            continue
        default = own.get(o.name)
        shown = f" (default: {default})" if o.name in own else ""
        if o.kind == "bool":
            g.add_argument(o.flag, dest=o.name, action=argparse.BooleanOptionalAction,
                           default=default, help=o.help + shown)
        elif o.kind == "choice":
            g.add_argument(o.flag, dest=o.name, choices=o.choices,
                           type=type(o.choices[0]), default=default, help=o.help + shown)
        else:
            g.add_argument(o.flag, dest=o.name, type=_argparse_size, metavar=o.metavar,
                           default=default, help=o.help + shown)


def _argparse_size(text: str) -> int:
    try:
        return sizes.parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def from_args(args: argparse.Namespace, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """The options given on the command line (those left out are not in the dict)."""
    skip = set(exclude)
    return {k: getattr(args, k) for k in SAVED
            if k not in skip and getattr(args, k, None) is not None}
