# `cpack -G DEB` in the build folder makes a Debian package of the programs,
# the presets, the desktop entry and the icon. Its dependencies come from
# dpkg-shlibdeps (part of dpkg-dev, which build-essential brings), so they
# name exactly the shared libraries the built programs link.
set(CPACK_PACKAGE_NAME convscope)
set(CPACK_PACKAGE_VENDOR "ConvScope developers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Workbench for efficient CNN building blocks")
set(CPACK_PACKAGE_DESCRIPTION
    "Parameters, multiply-adds and memory of MobileNet, SqueezeNet, IGCV and ShuffleNet blocks, live as you edit; \
measured latency on a SIMD CPU backend beside the roofline; ONNX, PyTorch and JSON export. \
Desktop app (convscope) and command line (convscope-cli).")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "ConvScope developers <convscope@localhost>")
set(CPACK_PACKAGE_INSTALL_DIRECTORY convscope)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# ONNX Runtime, oneDNN and torch are peers of the benchmarks and tests, not of the programs.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
include(CPack)
