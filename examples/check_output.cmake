# Runs one example and checks it: cmake -DPROGRAM=... [-DARGS=a|b] [-DEMULATOR=x|y]
#   -DEXPECTED_STDOUT=file -DEXPECTED_STATUS=n [-DEXPECTED_STDERR_LINE=text] -P check_output.cmake
# stdout must equal the file byte for byte and the exit status must be n; with
# EXPECTED_STDERR_LINE, stderr must hold that line (a sanitizer may add its
# own warnings there), and without it stderr is not checked.
# Lists come with | for ; so that they survive add_test().
string(REPLACE "|" ";" args "${ARGS}")
string(REPLACE "|" ";" emulator "${EMULATOR}")
execute_process(COMMAND ${emulator} ${PROGRAM} ${args}
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE status)
file(READ "${EXPECTED_STDOUT}" expected)
set(failed FALSE)
if(NOT out STREQUAL expected)
  message("stdout differs.\n--- expected:\n${expected}--- got:\n${out}---")
  set(failed TRUE)
endif()
if(NOT status STREQUAL "${EXPECTED_STATUS}")
  message("exit status ${status}, expected ${EXPECTED_STATUS}")
  set(failed TRUE)
endif()
if(DEFINED EXPECTED_STDERR_LINE)
  string(FIND "\n${err}" "\n${EXPECTED_STDERR_LINE}\n" at)
  if(at EQUAL -1)
    message("stderr lacks the line '${EXPECTED_STDERR_LINE}'")
    set(failed TRUE)
  endif()
endif()
if(failed)
  message("stderr:\n${err}")
  message(FATAL_ERROR "${PROGRAM}: wrong output")
endif()
