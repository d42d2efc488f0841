# Decides SGAN_WITH_CUDA / SGAN_WITH_CUDNN and finds the CUDA toolkit, cuBLAS and cuDNN.
include(CheckLanguage)
set(SGAN_WITH_CUDA OFF)
set(SGAN_WITH_CUDNN OFF)
if(SGAN_CUDA STREQUAL "AUTO")
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(SGAN_WITH_CUDA ON)
  else()
    message(STATUS "sgan: no CUDA compiler found; building the CPU backend only")
  endif()
elseif(SGAN_CUDA)
  set(SGAN_WITH_CUDA ON)
endif()

if(SGAN_WITH_CUDA)
  set(CMAKE_CUDA_ARCHITECTURES ${SGAN_CUDA_ARCHS})
  enable_language(CUDA)
  # CMake 3.25 knows no C++20 dialect flag for nvcc (13 accepts -std=c++20); CUDA targets inherit
  # CXX_STANDARD 20, so tell CMake the flag.
  set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
  set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
  set(CMAKE_CUDA_STANDARD 20)
  find_package(CUDAToolkit REQUIRED)
  message(STATUS "sgan: CUDA ${CUDAToolkit_VERSION}, architectures ${CMAKE_CUDA_ARCHITECTURES}")

  # cuDNN 9 ships inside this project's CUDA toolkit; elsewhere (pip's nvidia-cudnn) give CUDNN_ROOT.
  find_path(CUDNN_INCLUDE_DIR cudnn.h
    HINTS ${CUDNN_ROOT}/include ${CUDAToolkit_INCLUDE_DIRS} NO_CACHE)
  find_library(CUDNN_LIBRARY NAMES cudnn libcudnn.so.9
    HINTS ${CUDNN_ROOT}/lib ${CUDNN_ROOT}/lib64 ${CUDAToolkit_LIBRARY_DIR} NO_CACHE)
  if(CUDNN_INCLUDE_DIR AND CUDNN_LIBRARY)
    set(SGAN_WITH_CUDNN ON)
    add_library(sgan_cudnn_library INTERFACE)
    target_include_directories(sgan_cudnn_library SYSTEM INTERFACE ${CUDNN_INCLUDE_DIR})
    target_link_libraries(sgan_cudnn_library INTERFACE ${CUDNN_LIBRARY})
    message(STATUS "sgan: cuDNN ${CUDNN_LIBRARY}")
  else()
    message(STATUS "sgan: cuDNN not found (set CUDNN_ROOT); the cudnn twins are left out")
  endif()
endif()
