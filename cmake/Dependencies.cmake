# Libraries from Debian's packages (./sgan.sh deps installs them).
find_package(fmt REQUIRED)
find_package(GTest REQUIRED)
find_path(RANDOM123_INCLUDE_DIR Random123/philox.h REQUIRED)
add_library(sgan_random123 INTERFACE)
target_include_directories(sgan_random123 SYSTEM INTERFACE ${RANDOM123_INCLUDE_DIR})
find_package(ZLIB REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(CLI11 REQUIRED)
find_package(benchmark QUIET)
# Debian's stb ships the headers and one static library holding their implementations
# (so no translation unit of ours defines STB_IMAGE_WRITE_IMPLEMENTATION).
find_path(STB_INCLUDE_DIR stb_image_write.h PATH_SUFFIXES stb REQUIRED)
find_library(STB_LIBRARY stb REQUIRED)
add_library(sgan_stb INTERFACE)
target_include_directories(sgan_stb SYSTEM INTERFACE ${STB_INCLUDE_DIR})
target_link_libraries(sgan_stb INTERFACE ${STB_LIBRARY})
