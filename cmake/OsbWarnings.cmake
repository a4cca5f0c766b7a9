# Warnings and sanitizers for every target of the project.
add_compile_options(-Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes
                    -Wno-unused-parameter -D_GNU_SOURCE
                    # GCC's -O2 guesses about snprintf truncation are noise where the code checks the result.
                    $<$<C_COMPILER_ID:GNU>:-Wno-format-truncation>)
if(OSB_WERROR)
  add_compile_options(-Werror)
endif()
if(OSB_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined)
endif()
if(OSB_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined)
endif()
