# Libraries from Debian's packages (./sgan.sh deps installs them).
find_package(fmt REQUIRED)
find_package(GTest REQUIRED)
find_path(RANDOM123_INCLUDE_DIR Random123/philox.h REQUIRED)
add_library(sgan_random123 INTERFACE)
target_include_directories(sgan_random123 SYSTEM INTERFACE ${RANDOM123_INCLUDE_DIR})
find_package(ZLIB REQUIRED)
