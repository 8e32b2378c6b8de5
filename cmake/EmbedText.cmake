# cmake/EmbedText.cmake — compile text files into C++ headers.
#
#   hotfix_embed_text(<input file> <header path under generated/> <symbol>)
#
# Writes ${HOTFIX_GENERATED_DIR}/<header> declaring
#   inline constexpr char <symbol>[] = R"hotfix_embed(<file contents>)hotfix_embed";
#
#   hotfix_embed_files(<header path under generated/> <symbol>
#                      BASE_DIR <dir> FILES <file>...)
#
# Writes one header holding every file as such an array (<symbol>_0, ...)
# and a table of them by their path relative to BASE_DIR:
#   inline constexpr std::pair<std::string_view, std::string_view> <symbol>[]
#       = {{"index.html", <contents>}, ...};
#
# Both run at configure time and re-run the configuration when an input
# changes, so the files in the source tree stay the only copies (the demo
# flag set, the console's assets). Text only: a file holding the delimiter
# )hotfix_embed" is refused. Include the header as "<header>" from targets
# that link hotfix_generated.

set(HOTFIX_GENERATED_DIR ${CMAKE_BINARY_DIR}/generated)

# _hotfix_embed_literal(<input> <out var>): the raw string literal holding
# <input>'s contents; the configuration then depends on <input>.
function(_hotfix_embed_literal input out_var)
  get_filename_component(_in ${input} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  file(READ ${_in} _text)
  string(FIND "${_text}" ")hotfix_embed\"" _clash)
  if(NOT _clash EQUAL -1)
    message(FATAL_ERROR "${input} contains the raw-string delimiter )hotfix_embed\"")
  endif()
  set_property(DIRECTORY ${CMAKE_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_in})
  set(${out_var} "R\"hotfix_embed(${_text})hotfix_embed\"" PARENT_SCOPE)
endfunction()

# _hotfix_write_generated(<header> <source description> <body>): writes the
# header, only on change so that dependents are not rebuilt on every
# configure.
function(_hotfix_write_generated header source body)
  string(CONCAT _content
         "// Generated from ${source} by cmake/EmbedText.cmake; edit the source.\n"
         "#pragma once\n" "${body}")
  set(_out ${HOTFIX_GENERATED_DIR}/${header})
  if(EXISTS ${_out})
    file(READ ${_out} _old)
  else()
    set(_old "")
  endif()
  if(NOT _old STREQUAL _content)
    file(WRITE ${_out} "${_content}")
  endif()
endfunction()

function(hotfix_embed_text input header symbol)
  _hotfix_embed_literal(${input} _literal)
  get_filename_component(_in ${input} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  file(RELATIVE_PATH _rel ${CMAKE_SOURCE_DIR} ${_in})
  _hotfix_write_generated(${header} ${_rel}
    "inline constexpr char ${symbol}[] = ${_literal};\n")
endfunction()

function(hotfix_embed_files header symbol)
  cmake_parse_arguments(PARSE_ARGV 2 _ef "" "BASE_DIR" "FILES")
  get_filename_component(_base ${_ef_BASE_DIR} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  set(_arrays "")
  set(_entries "")
  set(_i 0)
  foreach(_file ${_ef_FILES})
    _hotfix_embed_literal(${_base}/${_file} _literal)
    string(APPEND _arrays "inline constexpr char ${symbol}_${_i}[] = ${_literal};\n")
    # The length is the array's size less its terminating NUL.
    string(APPEND _entries "    {\"${_file}\", std::string_view(${symbol}_${_i}, sizeof(${symbol}_${_i}) - 1)},\n")
    math(EXPR _i "${_i} + 1")
  endforeach()
  file(RELATIVE_PATH _rel ${CMAKE_SOURCE_DIR} ${_base})
  string(CONCAT _body
         "#include <string_view>\n#include <utility>\n"
         "${_arrays}"
         "inline constexpr std::pair<std::string_view, std::string_view> ${symbol}[] = {\n"
         "${_entries}};\n")
  _hotfix_write_generated(${header} "${_rel}/" "${_body}")
endfunction()
