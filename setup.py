"""Build heapviz's extension modules.

heapviz._core  — the allocator core (csrc/core, plain C) and its CPython binding (csrc/py).
heapviz._viz   — the SDL2 renderer (viz/), built only when pkg-config finds SDL2, SDL2_ttf
                 and libpng; without them the core still builds and the viewer calls raise
                 a clear error naming the missing packages.
heapviz/native/libheapviz_rt.so, libheapviz_cc.so — the C runtime (csrc/core + csrc/rt, plain
                 C, no Python): the malloc family of real C programs on a heapviz heap, and
                 the instrumentation library of `heapviz cc` programs (csrc/rt/cc).  Built
                 beside the extensions (not in the sanitizer build: it is an allocator).

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
from setuptools.command.build_ext import build_ext

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


# --- the C runtime -------------------------------------------------------------------------
RT_CFLAGS = ["-std=c11", "-O2", "-g", "-fPIC", "-fvisibility=hidden", "-fno-omit-frame-pointer",
             "-ftls-model=initial-exec", "-D_GNU_SOURCE", "-Wall", "-Wextra",
             "-Wno-missing-field-initializers", "-pthread"]
if os.environ.get("HEAPVIZ_WERROR") == "1":
    RT_CFLAGS.append("-Werror")


def gcc_file(name: str) -> str | None:
    """A file of gcc's own installation (libbacktrace ships with libgcc-12-dev)."""
    cc = shutil.which("gcc")
    if cc is None:
        return None
    out = subprocess.run([cc, f"-print-file-name={name}"], capture_output=True,
                         text=True).stdout.strip()
    return out if os.path.isabs(out) and os.path.exists(out) else None


class BuildWithRuntime(build_ext):
    """build_ext, then the two shared libraries of the C runtime into heapviz/native/."""

    def run(self) -> None:
        super().run()
        if not SANITIZE and sys.platform.startswith("linux"):
            self.build_runtime()

    def build_runtime(self) -> None:
        backtrace = gcc_file("libbacktrace.a")
        header = gcc_file("include/backtrace.h")
        if backtrace is None or header is None:
            sys.stderr.write("heapviz: gcc's libbacktrace was not found (Debian/Ubuntu: "
                             "apt-get install libgcc-12-dev); `heapviz cc` and `heapviz run "
                             "PROGRAM` will be unavailable\n")
            return
        out = os.path.join("heapviz", "native") if self.inplace else \
            os.path.join(self.build_lib, "heapviz", "native")
        os.makedirs(out, exist_ok=True)
        tmp = os.path.join(self.build_temp, "rt")
        cc = self.compiler
        inc = ["include", "csrc/core", "csrc/rt", os.path.dirname(header)]
        rt_src = sorted(glob.glob("csrc/core/*.c")) + sorted(glob.glob("csrc/rt/*.c"))
        objs = cc.compile(rt_src, output_dir=tmp, include_dirs=inc, extra_postargs=RT_CFLAGS)
        rt = os.path.join(out, "libheapviz_rt.so")
        cc.link_shared_object(objs + [backtrace], rt, libraries=["dl"], extra_postargs=[
            "-pthread", "-Wl,-soname,libheapviz_rt.so", "-Wl,--exclude-libs,ALL",
            "-Wl,-z,nodelete"])
        cc_src = sorted(glob.glob("csrc/rt/cc/*.c"))
        objs = cc.compile(cc_src, output_dir=tmp, include_dirs=inc, extra_postargs=RT_CFLAGS)
        cc.link_shared_object(objs, os.path.join(out, "libheapviz_cc.so"), extra_postargs=[
            "-pthread", "-Wl,-soname,libheapviz_cc.so", f"-L{out}", "-lheapviz_rt", "-ldl",
            "-Wl,-rpath,$ORIGIN"])


setup(ext_modules=extensions, cmdclass={"build_ext": BuildWithRuntime})
