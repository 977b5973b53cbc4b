# `cmake --install` (and `make install PREFIX=...`): the layer libraries and their headers,
# duplexd and duplex-echo with the page duplexd serves, a CMake package (find_package(duplex),
# target duplex::duplex) and a pkg-config file (duplex.pc). docs/deploy.md shows both in use;
# tests/install builds examples/echo.cpp against an installed tree with each.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Headers go to include/duplex/<layer>/, so users keep writing "server/app.h" as inside the tree.
set(DUPLEX_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/duplex)
set(DUPLEX_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/duplex)

# Every library a layer's folder defines is installed, found by asking the folder rather than
# listed here, so a library added to a layer is exported without editing this file (the export
# fails at configure time if an installed library links one that is not).
add_library(duplex INTERFACE)
add_library(duplex::duplex ALIAS duplex)
target_compile_features(duplex INTERFACE cxx_std_20)
set(duplex_libraries)
foreach(layer ${DUPLEX_LAYERS})
  if(NOT EXISTS ${PROJECT_SOURCE_DIR}/src/${layer}/CMakeLists.txt)
    continue()
  endif()
  get_property(targets DIRECTORY ${PROJECT_SOURCE_DIR}/src/${layer} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target ${targets})
    get_target_property(type ${target} TYPE)
    if(NOT type MATCHES "^(STATIC_LIBRARY|SHARED_LIBRARY|INTERFACE_LIBRARY)$")
      continue()
    endif()
    # The layers' CMakeLists name src/ as their include root; an installed package must name
    # the installed one instead, which only a generator expression can say. Set here, in one
    # place, rather than in each layer's file.
    set_property(TARGET ${target} PROPERTY INTERFACE_INCLUDE_DIRECTORIES
                 $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/src>
                 $<INSTALL_INTERFACE:${DUPLEX_INSTALL_INCLUDEDIR}>)
    string(REGEX REPLACE "^duplex_" "" export_name ${target})
    set_property(TARGET ${target} PROPERTY EXPORT_NAME ${export_name})
    target_link_libraries(duplex INTERFACE ${target})
    list(APPEND duplex_libraries ${target})
  endforeach()
  # *_internal.h headers are the stores' private parts (they include sqlite3.h).
  install(DIRECTORY src/${layer}/ DESTINATION ${DUPLEX_INSTALL_INCLUDEDIR}/${layer}
          COMPONENT devel FILES_MATCHING PATTERN "*.h" PATTERN "*_internal.h" EXCLUDE)
endforeach()

install(TARGETS duplex ${duplex_libraries} EXPORT duplexTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT devel
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT devel)
install(EXPORT duplexTargets NAMESPACE duplex:: DESTINATION ${DUPLEX_INSTALL_CMAKEDIR}
        COMPONENT devel)
configure_package_config_file(cmake/duplexConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/duplexConfig.cmake
                              INSTALL_DESTINATION ${DUPLEX_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/duplexConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/duplexConfig.cmake ${PROJECT_BINARY_DIR}/duplexConfigVersion.cmake
        DESTINATION ${DUPLEX_INSTALL_CMAKEDIR} COMPONENT devel)

# pkg-config: the libraries are static, so `Libs` lists them all, users first (hub before the
# layers it builds on), and `Requires` names what they link, not `Requires.private`, which a
# plain `pkg-config --libs` leaves out. The prefix is found from the file's own place, so the
# tree can be installed with --prefix anywhere.
set(DUPLEX_PC_LIBS "")
foreach(target ${duplex_libraries})
  get_target_property(type ${target} TYPE)
  if(NOT type STREQUAL "INTERFACE_LIBRARY")
    set(DUPLEX_PC_LIBS "-l${target} ${DUPLEX_PC_LIBS}")
  endif()
endforeach()
file(RELATIVE_PATH DUPLEX_PC_PREFIX_FROM_PCFILEDIR /root/${CMAKE_INSTALL_LIBDIR}/pkgconfig /root)
string(REGEX REPLACE "/$" "" DUPLEX_PC_PREFIX_FROM_PCFILEDIR "${DUPLEX_PC_PREFIX_FROM_PCFILEDIR}")
configure_file(cmake/duplex.pc.in ${PROJECT_BINARY_DIR}/duplex.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/duplex.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
        COMPONENT devel)

# The programs, and the page duplexd serves (it looks for ../share/duplex/web beside itself).
foreach(program duplexd duplex-echo)
  if(TARGET ${program})
    install(TARGETS ${program} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
  endif()
endforeach()
if(TARGET duplexd)
  install(DIRECTORY web/ DESTINATION ${CMAKE_INSTALL_DATADIR}/duplex/web COMPONENT runtime
          PATTERN "*.test.mjs" EXCLUDE)
endif()
install(FILES LICENSE README.md CHANGELOG.md DESTINATION ${CMAKE_INSTALL_DOCDIR} OPTIONAL
        COMPONENT runtime)
