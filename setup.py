"""Build heapviz's extension modules.

heapviz._core  — the allocator core (csrc/core, plain C) and its CPython binding (csrc/py).
heapviz._viz   — the SDL2 renderer (viz/), built only when pkg-config finds SDL2, SDL2_ttf
                 and libpng; without them the core still builds and the viewer calls raise
                 a clear error naming the missing packages.

Environment switches (as msgspec does):
  HEAPVIZ_DEBUG=1     expensive invariant check after every operation, -O0 -g
  HEAPVIZ_SANITIZE=1  ASan + UBSan build (run with LD_PRELOAD of libasan)
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup

DEBUG = os.environ.get("HEAPVIZ_DEBUG") == "1"
SANITIZE = os.environ.get("HEAPVIZ_SANITIZE") == "1"

cflags = ["-std=c11", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "-D_GNU_SOURCE"]
ldflags: list[str] = []
macros: list[tuple[str, str | None]] = []
if DEBUG:
    cflags += ["-O0", "-g"]
    macros.append(("HV_DEBUG", "1"))
else:
    # Link-time optimization across the core's one-file-per-concept sources, and
    # hidden symbols so that calls inside the extension may be inlined: together a
    # fifth off the malloc/free hot path (bench/RESULTS.md).
    cflags += ["-O3", "-fvisibility=hidden", "-fno-plt"]
    if not SANITIZE:
        cflags.append("-flto=auto")
        ldflags.append("-flto=auto")
if SANITIZE:
    san = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=undefined"]
    cflags += san
    ldflags += san
if os.environ.get("HEAPVIZ_WERROR") == "1":
    cflags.append("-Werror")

core_sources = sorted(glob.glob("csrc/core/*.c")) + sorted(glob.glob("csrc/py/*.c"))

extensions = [
    Extension(
        "heapviz._core",
        sources=core_sources,
        include_dirs=["include", "csrc/core"],
        define_macros=macros,
        extra_compile_args=cflags,
        extra_link_args=ldflags,
    )
]

SDL_PACKAGES = ["sdl2", "SDL2_ttf", "libpng"]


def pkg_config(*args: str) -> list[str] | None:
    if shutil.which("pkg-config") is None:
        return None
    try:
        out = subprocess.run(
            ["pkg-config", *args, *SDL_PACKAGES], check=True, capture_output=True, text=True
        ).stdout
    except subprocess.CalledProcessError:
        return None
    return out.split()


def missing_packages() -> list[str]:
    """The pkg-config packages of the renderer that are not there (all when no pkg-config)."""
    if shutil.which("pkg-config") is None:
        return list(SDL_PACKAGES)
    return [
        p for p in SDL_PACKAGES
        if subprocess.run(["pkg-config", "--exists", p], capture_output=True).returncode != 0
    ]


viz_cflags = pkg_config("--cflags")
viz_libs = pkg_config("--libs")
viz_sources = sorted(glob.glob("viz/*.c"))
if viz_cflags is not None and viz_libs is not None and viz_sources:
    extensions.append(
        Extension(
            "heapviz._viz",
            sources=[s for s in viz_sources if not s.endswith("viewer_main.c")]
            + sorted(glob.glob("csrc/core/*.c")),
            include_dirs=["include", "csrc/core", "viz"],
            define_macros=macros,
            extra_compile_args=cflags + viz_cflags,
            extra_link_args=ldflags + viz_libs,
        )
    )
elif viz_sources:
    sys.stderr.write(
        f"heapviz: pkg-config did not find {', '.join(missing_packages())}; building without "
        "the viewer (it needs sdl2, SDL2_ttf and libpng; on Debian/Ubuntu: apt-get install "
        "libsdl2-dev libsdl2-ttf-dev libpng-dev)\n"
    )

setup(ext_modules=extensions)
