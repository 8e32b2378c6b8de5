"""Builds hotfix._hotfix (hotfix_module.cc) for the hotfix package; the
metadata is in pyproject.toml.

The extension links libhotfix, found with pkg-config (the hotfix.pc that
`cmake --install <build> --prefix <prefix>` writes):

  HOTFIX_PREFIX=<prefix>   look in <prefix>/lib*/pkgconfig first
  PKG_CONFIG_PATH=...      or wherever pkg-config is told to look

In a source checkout with no libhotfix installed, it configures the
repository with CMake and builds and installs only the library (no tools,
tests, examples or bindings) under the build directory, then links that
(HOTFIX_JOBS parallel jobs). Nothing is downloaded.

The package's version is the linked library's (pkg-config --modversion),
else the repository's (CMakeLists.txt), else the sdist's (PKG-INFO).
"""

import glob
import os
import re
import shlex
import shutil
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
IN_TREE = os.path.isfile(os.path.join(REPO, "include", "hotfix", "client.h"))

NOT_FOUND = """\
hotfix: libhotfix was not found with pkg-config. Install it first, e.g.
    cmake --install build/release --prefix <prefix>
and build with HOTFIX_PREFIX=<prefix>
(or PKG_CONFIG_PATH=<prefix>/lib/pkgconfig).
"""


def pkgconfig_dirs(prefix):
    """The pkg-config directories under an installation prefix."""
    patterns = ("lib*/pkgconfig", "lib/*/pkgconfig", "share/pkgconfig")
    return sorted(d for pattern in patterns
                  for d in glob.glob(os.path.join(prefix, pattern))
                  if os.path.isdir(d))


def find_installed(extra_prefixes=()):
    """(version, cflags, libs, libdir) of libhotfix, or None."""
    if shutil.which("pkg-config") is None:
        return None
    prefixes = list(extra_prefixes)
    if os.environ.get("HOTFIX_PREFIX"):
        prefixes.insert(0, os.environ["HOTFIX_PREFIX"])
    dirs = [d for prefix in prefixes for d in pkgconfig_dirs(prefix)]
    if os.environ.get("PKG_CONFIG_PATH"):
        dirs.append(os.environ["PKG_CONFIG_PATH"])
    env = dict(os.environ, PKG_CONFIG_PATH=os.pathsep.join(dirs))

    def query(*args):
        result = subprocess.run(["pkg-config", *args, "hotfix"], env=env,
                                capture_output=True, text=True, check=False)
        return result.stdout.strip() if result.returncode == 0 else None

    version = query("--modversion")
    if version is None:
        return None
    return (version, shlex.split(query("--cflags") or ""),
            shlex.split(query("--libs") or ""),
            query("--variable=libdir") or "")


def package_version():
    found = find_installed()
    if found is not None:
        return found[0]
    if IN_TREE:
        with open(os.path.join(REPO, "CMakeLists.txt")) as f:
            match = re.search(r"project\(hotfix\s+VERSION\s+([0-9.]+)",
                              f.read())
        if match:
            return match.group(1)
    pkg_info = os.path.join(HERE, "PKG-INFO")
    if os.path.isfile(pkg_info):
        with open(pkg_info) as f:
            match = re.search(r"^Version: (\S+)$", f.read(), re.MULTILINE)
        if match:
            return match.group(1)
    raise SystemExit(NOT_FOUND)


class BuildExt(build_ext):
    """Compiles the module against libhotfix (see the module docstring)."""

    def build_extensions(self):
        found = find_installed()
        if found is None:
            if not IN_TREE:
                raise SystemExit(NOT_FOUND)
            found = find_installed([self.build_library()])
            if found is None:
                raise SystemExit("hotfix: the library built from " + REPO +
                                 " has no usable hotfix.pc")
        version, cflags, libs, libdir = found
        for ext in self.extensions:
            ext.define_macros.append(("HOTFIX_VERSION_STRING",
                                      '"%s"' % version))
            ext.extra_compile_args += ["-std=c++20", "-fvisibility=hidden",
                                       "-g0", *cflags]
            ext.include_dirs += pybind11_includes()
            ext.extra_link_args += [*libs, "-Wl,--exclude-libs,ALL"]
            if glob.glob(os.path.join(libdir, "libhotfix.so*")):
                ext.extra_link_args.append("-Wl,-rpath," + libdir)
        super().build_extensions()

    def build_library(self):
        """Builds and installs libhotfix alone from the source tree; returns
        the installation prefix."""
        build_dir = os.path.join(os.path.abspath(self.build_temp),
                                 "libhotfix")
        prefix = os.path.join(build_dir, "prefix")
        jobs = os.environ.get("HOTFIX_JOBS") or str(os.cpu_count() or 1)
        generator = ["-G", "Ninja"] if shutil.which("ninja") else []
        for command in (
                ["cmake", "-S", REPO, "-B", build_dir, *generator,
                 "-DCMAKE_BUILD_TYPE=Release", "-DHOTFIX_BUILD_TESTS=OFF",
                 "-DHOTFIX_BUILD_BENCHMARKS=OFF",
                 "-DHOTFIX_BUILD_EXAMPLES=OFF", "-DHOTFIX_BUILD_TOOLS=OFF",
                 "-DHOTFIX_BUILD_C_BINDING=OFF", "-DHOTFIX_BUILD_PYTHON=OFF"],
                ["cmake", "--build", build_dir, "--target", "hotfix",
                 "-j", jobs],
                ["cmake", "--install", build_dir, "--prefix", prefix]):
            self.announce(" ".join(command), level=2)
            subprocess.run(command, check=True)
        return prefix


def pybind11_includes():
    """pybind11's headers: Debian's pybind11-dev puts them on the default
    include path; a pip-installed pybind11 says where they are."""
    try:
        import pybind11
    except ImportError:
        return []
    return [pybind11.get_include()]


setup(
    version=package_version(),
    ext_modules=[Extension("hotfix._hotfix", ["hotfix_module.cc"],
                           language="c++")],
    cmdclass={"build_ext": BuildExt},
)
