# vcpkg port of fulcrum (header-only). Overlay use: vcpkg install fulcrum --overlay-ports=ports
set(VCPKG_BUILD_TYPE release)

if(DEFINED ENV{FULCRUM_SOURCE_DIR})
  # Local checkout (development, and the repository's own port test).
  set(SOURCE_PATH "$ENV{FULCRUM_SOURCE_DIR}")
else()
  # Release tarball. SHA512 is the hash of the v${VERSION} archive: vcpkg prints the expected value
  # on the first install of a new release; record it here when the release is tagged.
  vcpkg_from_github(
    OUT_SOURCE_PATH SOURCE_PATH
    REPO fulcrum-dev/fulcrum
    REF "v${VERSION}"
    SHA512 0
    HEAD_REF main
  )
endif()

vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS
  FEATURES
    cuda FULCRUM_ENABLE_CUDA
    nccl FULCRUM_ENABLE_NCCL
    mpi  FULCRUM_ENABLE_MPI
)

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    -DFULCRUM_BUILD_TESTS=OFF
    -DFULCRUM_BUILD_EXAMPLES=OFF
    -DFULCRUM_BUILD_BENCHMARKS=OFF
    -DFULCRUM_BUILD_TOOLS=OFF
    -DFULCRUM_BUILD_DOCS=OFF
    -DFULCRUM_INSTALL=ON
    ${FEATURE_OPTIONS}
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(CONFIG_PATH share/cmake/fulcrum)

file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug" "${CURRENT_PACKAGES_DIR}/lib")
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
