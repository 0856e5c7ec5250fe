# SPDX-License-Identifier: MIT
# Installing realmkit, and the two ways other projects build against the
# installed tree (included at the end of CMakeLists.txt):
#   bin/realmkit                                   the CLI
#   lib/librealmkit.so.0.1.0 (SONAME librealmkit.so.0), librealmkit.a
#   include/realmkit/*.h, include/realmkit/abi_gen.h (generated),
#   include/realmkit/arch/*.h (the Arm constants the public headers use)
#   lib/pkgconfig/realmkit.pc                      pkg-config --cflags --libs realmkit
#   lib/cmake/realmkit/realmkit-config.cmake       find_package(realmkit):
#                       realmkit::realmkit (shared), realmkit::realmkit_static
#   share/man/man1/realmkit.1, share/bash-completion/completions/realmkit,
#   share/doc/realmkit/LICENSE
# tests/project/test_install.sh installs into a scratch prefix and builds
# examples/embed/hello_realm.c against it both ways, shared and static.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set_target_properties(realmkit PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})

# What the exported targets carry: the include directory of the installed tree
# (never the source or build tree's), and for the static library the
# libraries it needs, found again by realmkit-config.cmake. The public headers
# include no header of a dependency, so the shared library needs nothing else.
set(rk_incs "")
foreach(d ${RK_PUBLIC_INCLUDES})
  list(APPEND rk_incs "$<BUILD_INTERFACE:${d}>")
endforeach()
list(APPEND rk_incs "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
foreach(t realmkit realmkit_static)
  set_property(TARGET ${t} PROPERTY INTERFACE_INCLUDE_DIRECTORIES "${rk_incs}")
endforeach()
set_property(TARGET realmkit PROPERTY INTERFACE_LINK_LIBRARIES "")
get_target_property(rk_static_deps realmkit_static INTERFACE_LINK_LIBRARIES)
set(rk_deps "")
set(RK_PKG_MODULES "")   # pkg-config modules of the static library's dependencies
set(rk_pc_libs "")       # and those it names as plain libraries (Libs.private)
foreach(d ${rk_static_deps})
  if(d MATCHES "^PkgConfig::(.+)$")
    set(var ${CMAKE_MATCH_1})
    list(APPEND RK_PKG_MODULES ${${var}_MODULE_NAME})
    list(APPEND rk_deps "$<BUILD_INTERFACE:${d}>" "$<INSTALL_INTERFACE:PkgConfig::realmkit_${${var}_MODULE_NAME}>")
  else()
    list(APPEND rk_deps ${d})
    if(NOT TARGET ${d} AND d MATCHES "^[A-Za-z0-9_+-]+$")   # a library by name (libfdt on Debian 12)
      list(APPEND rk_pc_libs "-l${d}")
    endif()
  endif()
endforeach()
set_property(TARGET realmkit_static PROPERTY INTERFACE_LINK_LIBRARIES "${rk_deps}")

# ---- Files ----
install(TARGETS realmkit realmkit_static EXPORT realmkit-targets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS realmkit_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
file(GLOB RK_PUBLIC_HEADERS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/include/realmkit/*.h)
install(FILES ${RK_PUBLIC_HEADERS} ${RK_GEN_DIR}/include/realmkit/abi_gen.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/realmkit)
file(GLOB RK_ARCH_HEADERS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/include/realmkit/arch/*.h)
install(FILES ${RK_ARCH_HEADERS} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/realmkit/arch)
install(FILES ${CMAKE_SOURCE_DIR}/docs/realmkit.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${CMAKE_SOURCE_DIR}/scripts/completion/realmkit.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME realmkit)
install(FILES ${CMAKE_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR})

# ---- CMake package: find_package(realmkit) ----
set(RK_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/realmkit)
install(EXPORT realmkit-targets NAMESPACE realmkit:: FILE realmkit-targets.cmake
        DESTINATION ${RK_CMAKE_DIR})
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/realmkit-config.cmake.in
                              ${CMAKE_BINARY_DIR}/realmkit-config.cmake
                              INSTALL_DESTINATION ${RK_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/realmkit-config-version.cmake
                                 COMPATIBILITY SameMajorVersion)   # = the SONAME's version
install(FILES ${CMAKE_BINARY_DIR}/realmkit-config.cmake ${CMAKE_BINARY_DIR}/realmkit-config-version.cmake
        DESTINATION ${RK_CMAKE_DIR})

# ---- pkg-config: realmkit.pc, relocatable (paths relative to ${pcfiledir}) ----
file(RELATIVE_PATH RK_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" RK_PC_TO_PREFIX "${RK_PC_TO_PREFIX}")
string(REPLACE ";" " " RK_PC_REQUIRES_PRIVATE "${RK_PKG_MODULES};libcrypto")
string(REPLACE ";" " " RK_PC_LIBS_PRIVATE "${rk_pc_libs}")
configure_file(${CMAKE_SOURCE_DIR}/cmake/realmkit.pc.in ${CMAKE_BINARY_DIR}/realmkit.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/realmkit.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# ---- tests/project/test_install.sh builds with this build's compiler and sanitizers ----
if(TEST test_install)
  set(rk_example_flags "")
  if(RK_SANITIZE STREQUAL "asan" OR RK_BUILD_FUZZ)
    set(rk_example_flags "-fsanitize=address,undefined")
  elseif(RK_SANITIZE STREQUAL "tsan")
    set(rk_example_flags "-fsanitize=thread")
  endif()
  set_property(TEST test_install APPEND PROPERTY ENVIRONMENT
               "RK_CC=${CMAKE_C_COMPILER}" "RK_EXAMPLE_CFLAGS=${rk_example_flags}")
endif()
