# Conan 2 recipe for fulcrum: a header-only C++20 library (package_type "header-library").
#   conan create . --build=missing -s compiler.cppstd=20
# The package is the CMake install tree (headers + fulcrumConfig.cmake); consumers get
# fulcrum::fulcrum through CMakeDeps. The optional CUDA/NCCL/MPI components need the CUDA toolkit,
# NCCL or MPI from the system (none is on ConanCenter): use the CMake package directly for those.
import os
import re

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, CMakeToolchain, cmake_layout
from conan.tools.files import load, rmdir

required_conan_version = ">=2.0"


class FulcrumConan(ConanFile):
    name = "fulcrum"
    description = "Header-only C++20 load-balancing algorithms for large-model training"
    license = "Apache-2.0"
    topics = ("load-balancing", "bin-packing", "scheduling", "deep-learning", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    exports_sources = "include/*", "cmake/*", "src/*", "CMakeLists.txt", "LICENSE"
    no_copy_source = True

    def set_version(self):
        # The one version source is include/fulcrum/version.hpp.
        text = load(self, os.path.join(self.recipe_folder, "include", "fulcrum", "version.hpp"))
        parts = [re.search(r"#define FULCRUM_VERSION_%s (\d+)" % p, text).group(1) for p in ("MAJOR", "MINOR", "PATCH")]
        self.version = ".".join(parts)

    def layout(self):
        cmake_layout(self)

    def validate(self):
        check_min_cppstd(self, 20)

    def package_id(self):
        self.info.clear()

    def generate(self):
        tc = CMakeToolchain(self)
        for option in ("TESTS", "EXAMPLES", "BENCHMARKS", "TOOLS", "DOCS"):
            tc.cache_variables["FULCRUM_BUILD_" + option] = False
        tc.cache_variables["FULCRUM_INSTALL"] = True
        tc.generate()

    def build(self):
        pass  # header-only: nothing to compile

    def package(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.install()
        # CMakeDeps generates the config consumers use; keep the license, drop our own config files.
        rmdir(self, os.path.join(self.package_folder, "share", "cmake"))

    def package_info(self):
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.set_property("cmake_file_name", "fulcrum")
        self.cpp_info.set_property("cmake_target_name", "fulcrum::fulcrum")
        if self.settings.os in ("Linux", "FreeBSD"):
            self.cpp_info.system_libs = ["pthread"]
