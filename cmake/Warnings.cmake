# zkop_warnings: the warning set every zkop target compiles with.
add_library(zkop_warnings INTERFACE)
target_compile_options(zkop_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused
  -Woverloaded-virtual -Wimplicit-fallthrough
  $<$<AND:$<BOOL:${ZKOP_WERROR}>,$<NOT:$<BOOL:${ZKOP_SANITIZE}>>>:-Werror>)
# Under ASan/UBSan GCC 12's flow analysis reports false positives (-Wmaybe-uninitialized in
# <regex>, -Wformat-truncation): sanitizer builds keep the warnings but do not fail on them.

if(ZKOP_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
