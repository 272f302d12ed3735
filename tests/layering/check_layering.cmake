# check_layering.cmake: what the include graph of issue #14 allows, checked on the
# sources (the build enforces it too: Lua's headers are found only by sb_rules).
#   cmake -DROOT=<tree with engine/> -DLIST=<allow-list> -P check_layering.cmake
# 1. No file outside engine/rules includes a Lua header (lua.h, lauxlib.h, lualib.h,
#    luaconf.h, lua-cjson.h, also by a path such as <lua5.4/lua.h>).
# 2. Outside engine/store, only the files in LIST call SQLite (sqlite3_ or sqlite3.h) or
#    reach inside the store's connection (store/store_int.h).
#    The list only shrinks: a file that starts calling SQLite fails (its SQL belongs in
#    engine/store), and so does a listed file that no longer does (take it off the list).
cmake_policy(VERSION 3.25)
if(NOT ROOT OR NOT LIST)
  message(FATAL_ERROR "usage: cmake -DROOT=<dir> -DLIST=<file> -P check_layering.cmake")
endif()
file(GLOB_RECURSE sources RELATIVE ${ROOT} ${ROOT}/engine/*.c ${ROOT}/engine/*.h)
list(SORT sources)
file(STRINGS ${LIST} allowed REGEX "^[^#]")
set(problems "")
set(calling "")
foreach(f IN LISTS sources)
  if(NOT f MATCHES "^engine/rules/")
    file(STRINGS ${ROOT}/${f} lua_lines
         REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]([^>\"]*/)?(lua|lauxlib|lualib|luaconf|lua-cjson)\\.h[>\"]")
    if(lua_lines)
      string(APPEND problems "  ${f} includes a Lua header (${lua_lines}): only engine/rules may\n")
    endif()
  endif()
  if(NOT f MATCHES "^engine/store/")
    file(STRINGS ${ROOT}/${f} sql_lines REGEX "sqlite3_|sqlite3\\.h|store_int\\.h")
    if(sql_lines)
      list(APPEND calling ${f})
      if(NOT f IN_LIST allowed)
        string(APPEND problems "  ${f} calls SQLite (or includes store/store_int.h) and is not in ${LIST}: its SQL belongs in engine/store\n")
      endif()
    endif()
  endif()
endforeach()
foreach(f IN LISTS allowed)
  if(NOT f IN_LIST calling)
    string(APPEND problems "  ${f} is in ${LIST} but no longer calls SQLite: take it off the list\n")
  endif()
endforeach()
list(LENGTH calling n)
if(problems)
  message(FATAL_ERROR "layering:\n${problems}")
endif()
message(STATUS "layering: Lua headers only in engine/rules; ${n} files outside engine/store call SQLite, as listed")
