# cmake/EmbedText.cmake — compile a text file into a C++ header.
#
#   hotfix_embed_text(<input file> <header path under generated/> <symbol>)
#
# Writes ${HOTFIX_GENERATED_DIR}/<header> declaring
#   inline constexpr char <symbol>[] = R"hotfix_embed(<file contents>)hotfix_embed";
# at configure time, and re-runs the configuration when the input changes, so
# the file in the source tree stays the only copy (the demo flag set, the
# console's assets). Include it as "<header>" from targets that link
# hotfix_generated.

set(HOTFIX_GENERATED_DIR ${CMAKE_BINARY_DIR}/generated)

function(hotfix_embed_text input header symbol)
  get_filename_component(_in ${input} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  file(READ ${_in} _text)
  string(FIND "${_text}" ")hotfix_embed\"" _clash)
  if(NOT _clash EQUAL -1)
    message(FATAL_ERROR "${input} contains the raw-string delimiter )hotfix_embed\"")
  endif()
  file(RELATIVE_PATH _rel ${CMAKE_SOURCE_DIR} ${_in})
  string(CONCAT _content
         "// Generated from ${_rel} by cmake/EmbedText.cmake; edit that file.\n"
         "#pragma once\n"
         "inline constexpr char ${symbol}[] = R\"hotfix_embed(" "${_text}"
         ")hotfix_embed\";\n")
  set(_out ${HOTFIX_GENERATED_DIR}/${header})
  # Rewrite only on change, so dependents are not rebuilt on every configure.
  if(EXISTS ${_out})
    file(READ ${_out} _old)
  else()
    set(_old "")
  endif()
  if(NOT _old STREQUAL _content)
    file(WRITE ${_out} "${_content}")
  endif()
  set_property(DIRECTORY ${CMAKE_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_in})
endfunction()
