# Warnings as errors on our own targets only (never on generated protos).
function(crm_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror
                         -Wno-missing-field-initializers)
endfunction()

option(CRM_SANITIZE "Build with ASan+UBSan" OFF)
if(CRM_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
