# Host code builds warning-free under -Wall -Wextra -Werror; CUDA device code under nvcc's
# all-warnings-as-errors, with the same flags passed to its host compiler.
add_library(sgan_warnings INTERFACE)
target_compile_options(sgan_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor>
  $<$<COMPILE_LANGUAGE:CUDA>:-Werror=all-warnings -Xcompiler=-Wall,-Wextra,-Werror>)
