# Host code builds warning-free under -Wall -Wextra -Werror; CUDA device code under nvcc's
# all-warnings-as-errors, with the same flags passed to its host compiler. Another compiler than
# this project's (the GPU machine's newer GCC, say) may warn where ours does not: there
# SGAN_WARNINGS_AS_ERRORS=OFF keeps every warning in the log without failing the build.
option(SGAN_WARNINGS_AS_ERRORS "Fail the build on any compiler warning" ON)
add_library(sgan_warnings INTERFACE)
target_compile_options(sgan_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wshadow -Wnon-virtual-dtor>
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra>)
if(SGAN_WARNINGS_AS_ERRORS)
  target_compile_options(sgan_warnings INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-Werror>
    $<$<COMPILE_LANGUAGE:CUDA>:-Werror=all-warnings -Xcompiler=-Werror>)
endif()
