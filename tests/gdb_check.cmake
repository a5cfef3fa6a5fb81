# The gdb extension (tools/libcoro-gdb.py) against tests/gdb_target.c, on
# the live process (PART live) or on a core file of it (PART core):
#   cmake -DGDB=gdb -DTARGET=gdb_target -DSTRIPPED=gdb_stripped
#         -DSCRIPT=libcoro-gdb.py -DWORK_DIR=dir -DPART=live|core
#         [-DRUNNER=qemu-aarch64|-L|/] -P gdb_check.cmake
# With RUNNER (an emulator and its arguments, `|`-separated), the target
# runs under qemu-user: gdb (gdb-multiarch) debugs it through qemu's gdb
# stub, and the core file is the one qemu writes.
# `info coroutines` must list each coroutine with its state and body, and
# `coroutine N` + bt show its frames in order; with no live coroutine
# (gdb_target none), say so, not fail; on the stripped program (STRIPPED,
# the same built with -s), say why it finds no libcoro. Where there is no
# gdb, or the kernel puts core files out of reach, it says SKIPPED, which
# ctest takes for a skip.

if(NOT GDB)
  message("SKIPPED: gdb not found; install gdb (gdb-multiarch to test a cross build) to test the gdb extension")
  return()
endif()

set(failures 0)
macro(fail text)
  message(SEND_ERROR "${text}")
  math(EXPR failures "${failures} + 1")
endmacro()

# The commands, each section of output after a marker line "@@ name".
set(commands
  "set pagination off"
  "set width 0"
  "set confirm off"
  "source ${SCRIPT}"
  "echo @@ list\\n" "info coroutines"
  "echo @@ recursing\\n" "coroutine 1" "bt"
  "echo @@ up\\n" "frame function descend" "info args" "up" "info args"
  "echo @@ by-address\\n" "coroutine delegating" "bt"
  "echo @@ inner\\n" "coroutine inner" "bt"
  "echo @@ normal\\n" "coroutine outer" "bt"
  "echo @@ not-started\\n" "coroutine fresh"
  "echo @@ back\\n" "coroutine" "bt"
  "echo @@ all\\n" "coroutine bt-all"
  "echo @@ worker\\n" "coroutine working" "bt"
  # A selection is one thread's: another thread's bt is its own.
  "echo @@ switching\\n" "thread 1" "coroutine 1" "thread 2" "echo @@ other-thread\\n" "bt"
  "echo @@ switching\\n" "thread 1" "echo @@ same-thread\\n" "bt"
  # info coroutines leaves the selected frame as it was.
  "echo @@ kept-frame\\n" "frame function recursing_body" "info coroutines" "frame"
  "echo @@ errors\\n" "coroutine 99" "coroutine no_such_symbol" "coroutine 5"
  # Whatever the current language (Rust has no `void`).
  "echo @@ rust\\n" "set language rust" "info coroutines" "coroutine 1" "set language auto"
  "echo @@ end\\n")

# The output of one gdb run, split into sections by their markers. With
# `runner` set, that command runs beside gdb (a pipeline), for gdb to
# connect to.
function(run_gdb prefix)
  set(args -batch -nx)
  foreach(command IN LISTS ARGN)
    list(APPEND args -ex "${command}")
  endforeach()
  if(runner)
    execute_process(COMMAND ${runner} COMMAND ${GDB} ${args}
      WORKING_DIRECTORY ${WORK_DIR}
      OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT 300)
  else()
    execute_process(COMMAND ${GDB} ${args}
      WORKING_DIRECTORY ${WORK_DIR}
      OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT 120)
  endif()
  set(${prefix}_output "${out}\n${err}" PARENT_SCOPE)
  message("---- gdb (${prefix}, exit ${rc}) ----\n${out}\n${err}")
  if(NOT rc EQUAL 0)
    fail("${prefix}: gdb exited with ${rc}")
  endif()
  if("${out}${err}" MATCHES "Python Exception|Error occurred in Python")
    fail("${prefix}: the script raised a Python exception")
  endif()
  set(failures ${failures} PARENT_SCOPE)
  # Lines as a CMake list: no `;` and no brackets, which would join them.
  string(REPLACE ";" "," out "${out}")
  string(REPLACE "[" "<" out "${out}")
  string(REPLACE "]" ">" out "${out}")
  string(REPLACE "\n" ";" lines "${out}")
  set(section "")
  foreach(line IN LISTS lines)
    if(line MATCHES "^@@ (.+)$")
      set(section ${CMAKE_MATCH_1})
      set(${prefix}_${section} "" PARENT_SCOPE)
      set(text_${section} "")
    elseif(section)
      string(APPEND text_${section} "${line}\n")
      set(${prefix}_${section} "${text_${section}}" PARENT_SCOPE)
    endif()
  endforeach()
endfunction()

# The function names of the frames of a bt, innermost first, without the
# suffixes of compilers' clones (coro_main.llvm.123, f.constprop.0).
function(frame_names text out)
  set(names "")
  string(REPLACE "\n" ";" lines "${text}")
  foreach(line IN LISTS lines)
    set(name "")
    if(line MATCHES "^#[0-9]+ +0x[0-9a-f]+ in ([^ (]+) ")
      set(name ${CMAKE_MATCH_1})
    elseif(line MATCHES "^#[0-9]+ +([^ (]+) \\(")
      set(name ${CMAKE_MATCH_1})
    endif()
    if(name)
      string(REGEX REPLACE "\\..*$" "" name "${name}")
      list(APPEND names ${name})
    endif()
  endforeach()
  set(${out} "${names}" PARENT_SCOPE)
endfunction()

# The bt in text must hold expected (a list of names) as consecutive frames,
# and none of the names in absent.
function(expect_frames what text expected absent)
  frame_names("${text}" names)
  string(REPLACE ";" "," have "${names}")
  string(REPLACE ";" "," want "${expected}")
  if(NOT ",${have}," MATCHES ",${want},")
    fail("${what}: bt should hold ${want} in that order; it has ${have}")
  endif()
  foreach(name IN LISTS absent)
    if(",${have}," MATCHES ",${name},")
      fail("${what}: bt should not hold ${name} (the thread's own frames); it has ${have}")
    endif()
  endforeach()
  set(failures ${failures} PARENT_SCOPE)
endfunction()

function(expect what text pattern)
  if(NOT text MATCHES "${pattern}")
    fail("${what}: no match for ${pattern} in:\n${text}")
  endif()
  set(failures ${failures} PARENT_SCOPE)
endfunction()

# Checks the sections of one run; `live` says whether it was the live
# process (the core's was stopped by abort() rather than a breakpoint).
function(check prefix)
  set(list "${${prefix}_list}")
  set(hex "0x[0-9a-f]+")
  # Listed in creation order: each with its number, state and body.
  set(n 1)
  foreach(entry "suspended +recursing_body" "suspended +inner_body .*delegated to by"
      "suspended +delegating_body .*delegate ${hex}" "created +finished_body"
      "dead +finished_body" "running +running_body .*thread 1" "normal +outer_body"
      "running +working_body .*thread 2")
    expect("${prefix}: info coroutines, coroutine ${n}" "${list}"
      "\n[* ] ${n} +${hex} ${entry}[^\n]*\n")
    math(EXPR n "${n} + 1")
  endforeach()
  if(list MATCHES "\n[* ] 9 ")
    fail("${prefix}: info coroutines lists a destroyed coroutine:\n${list}")
  endif()
  expect("${prefix}: the current coroutine is marked" "${list}" "\n\\* 6 ")
  expect("${prefix}: stack ranges and resident sizes" "${list}"
    "recursing_body +<${hex}-${hex}> [1-9][0-9]*/64 KiB resident")

  set(thread_frames stop_here main abort raise)
  expect_frames("${prefix}: coroutine 1" "${${prefix}_recursing}"
    "descend;descend;descend;recursing_body;coro_main" "${thread_frames}")
  expect("${prefix}: frame function descend, up" "${${prefix}_up}"
    "depth = 0\n.*depth = 1\n")
  expect_frames("${prefix}: coroutine delegating (an address)" "${${prefix}_by-address}"
    "coro_yield_from;delegating_body;coro_main" "${thread_frames}")
  expect_frames("${prefix}: coroutine inner" "${${prefix}_inner}"
    "inner_step;inner_body;coro_main" "${thread_frames};delegating_body")
  expect_frames("${prefix}: coroutine outer (normal)" "${${prefix}_normal}"
    "outer_body;coro_main" "${thread_frames};running_body")
  expect("${prefix}: coroutine fresh" "${${prefix}_output}" "Coroutine 4 is created: it has no stack to show")
  expect_frames("${prefix}: coroutine (back to the thread)" "${${prefix}_back}"
    "stop_here;running_body;coro_main" "descend")
  expect_frames("${prefix}: coroutine working (thread 2)" "${${prefix}_worker}"
    "wait_in_worker;working_body;coro_main" "stop_here")

  # bt-all: the suspended and normal ones, each its own stack.
  set(all "${${prefix}_all}")
  foreach(entry "1 .*suspended, recursing_body" "2 .*suspended, inner_body"
      "3 .*suspended, delegating_body" "7 .*normal, outer_body")
    expect("${prefix}: coroutine bt-all" "${all}" "\nCoroutine ${entry}\\):\n")
  endforeach()
  string(REGEX MATCH "\nCoroutine 1 [^\n]*\n(#[^\n]*\n)+" first "${all}")
  expect_frames("${prefix}: bt-all, coroutine 1" "${first}"
    "descend;descend;descend;recursing_body" "${thread_frames}")
  if(all MATCHES "Coroutine [4568] ")
    fail("${prefix}: bt-all shows only suspended and normal coroutines")
  endif()

  expect_frames("${prefix}: coroutine 1 on thread 1, bt on thread 2" "${${prefix}_other-thread}"
    "wait_in_worker;working_body;coro_main" "descend")
  expect("${prefix}: thread 2's innermost frame is shown" "${${prefix}_other-thread}" "^#0 ")
  expect_frames("${prefix}: back on thread 1, coroutine 1 again" "${${prefix}_same-thread}"
    "descend;descend;descend;recursing_body" "${thread_frames}")
  expect("${prefix}: info coroutines keeps the selected frame" "${${prefix}_kept-frame}"
    "\n\\* 1 .*\n#[0-9]+ +[^\n]*recursing_body \\(")
  expect("${prefix}: coroutine 99" "${${prefix}_output}" "No coroutine 99: `info coroutines` lists 8")
  expect("${prefix}: coroutine no_such_symbol" "${${prefix}_output}"
    "`no_such_symbol` is neither a number from `info coroutines` nor an expression")
  expect("${prefix}: coroutine 5" "${${prefix}_output}" "Coroutine 5 is dead: it has no stack to show")
  expect("${prefix}: under set language rust" "${${prefix}_rust}"
    "\n[* ] 1 +${hex} suspended +recursing_body .*Coroutine 1 \\(${hex}, suspended, recursing_body\\)")
  set(failures ${failures} PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
if(RUNNER)
  string(REPLACE "|" ";" emulator "${RUNNER}")
else()
  set(emulator "")
endif()

# The programs with nothing to list: gdb_target none (no live coroutine:
# `info coroutines` says so, as no error), and the stripped one.
set(quiet "set pagination off" "set width 0" "set confirm off" "source ${SCRIPT}")
set(none_commands ${quiet} "echo @@ list\\n" "info coroutines"
  "echo @@ all\\n" "coroutine bt-all" "echo @@ end\\n")
set(stripped_commands ${quiet} "echo @@ list\\n" "info coroutines" "echo @@ end\\n")

function(check_none prefix)
  expect("${prefix}: info coroutines, no live coroutine" "${${prefix}_list}" "^No coroutines\\.\n$")
  expect("${prefix}: coroutine bt-all, no live coroutine" "${${prefix}_all}"
    "^No suspended coroutines\\.\n$")
  set(failures ${failures} PARENT_SCOPE)
endfunction()

function(check_stripped prefix)
  expect("${prefix}: info coroutines, stripped" "${${prefix}_output}"
    "No libcoro found: this program is stripped \\(`strip` removes the symbols")
  if("${${prefix}_output}" MATCHES "\\(yet: ")
    fail("${prefix}: info coroutines on the stripped program says 'yet':\n${${prefix}_output}")
  endif()
  set(failures ${failures} PARENT_SCOPE)
endfunction()

# gdb on program run with arguments (a word, or ""): the commands in the
# list named before, the start, then ARGN once it has stopped, the output
# matching stopped. Under RUNNER, through qemu's gdb stub, on a port of its
# own: ctest may run other tests at the same time. gdb retries the
# connection until qemu listens; a port already taken is tried again with
# another.
macro(run_live prefix program arguments stopped before)
  if(RUNNER)
    foreach(attempt 1 2 3)
      string(RANDOM LENGTH 4 ALPHABET 0123456789 port)
      math(EXPR port "20000 + ${port}")
      set(runner ${emulator} -g ${port} ${program} ${arguments})
      run_gdb(${prefix} "file ${program}" "target remote :${port}" ${${before}} "continue" ${ARGN})
      if(${prefix}_output MATCHES "${stopped}")
        break()
      endif()
    endforeach()
  else()
    set(runner "")
    run_gdb(${prefix} "file ${program}" ${${before}} "run ${arguments}" ${ARGN})
  endif()
  expect("${prefix}: the program stopped" "${${prefix}_output}" "${stopped}")
endmacro()

# A core file of program run with crash and arguments, in WORK_DIR/dir: its
# path in the variable out, or "" and why in out_why.
function(make_core dir program arguments out)
  file(MAKE_DIRECTORY ${WORK_DIR}/${dir})
  execute_process(COMMAND ${emulator} ${program} crash ${arguments}
    WORKING_DIRECTORY ${WORK_DIR}/${dir}
    RESULT_VARIABLE crashed OUTPUT_QUIET ERROR_QUIET TIMEOUT 120)
  if(RUNNER)
    file(GLOB cores ${WORK_DIR}/${dir}/qemu_*.core)
  else()
    file(GLOB cores ${WORK_DIR}/${dir}/core*)
  endif()
  list(LENGTH cores count)
  if(count EQUAL 1)
    set(${out} ${cores} PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
    set(${out}_why "the crash (${crashed}) of ${program} left ${count} core files \
(core_pattern '${pattern}'; is the hard RLIMIT_CORE 0?)" PARENT_SCOPE)
  endif()
endfunction()

if(PART STREQUAL "live")
  # Stopped at the breakpoint; then a step ends the coroutine's selection.
  # A function called in the program leaves a selection in place, unless
  # it moves the coroutine: a fresh unwind (here after switching threads)
  # or a bt then shows the thread's own stack, and says what happened.
  set(end_live "echo @@ calling\\n" "coroutine 1" "print (int)getpid()" "echo @@ called\\n" "bt"
    "coroutine outer" "print (int)getpid()" "echo @@ normal-called\\n" "bt"
    "echo @@ moving\\n" "coroutine 1" "print (void *)coro_next(recursing)" "thread 2" "thread 1"
    "echo @@ unwound\\n" "frame 1" "echo @@ moving-list\\n" "info coroutines"
    "echo @@ moved\\n" "bt"
    "echo @@ destroying\\n" "coroutine delegating" "print (int)coro_destroy(delegating)"
    "echo @@ destroyed\\n" "bt"
    "echo @@ stepping\\n" "coroutine 1" "stepi" "echo @@ stepped\\n" "bt" "kill")
  set(at_stop_here "break stop_here")
  if(NOT RUNNER)
    # And a core file from gdb's gcore, which lacks the coroutines' stacks.
    list(PREPEND end_live "gcore ${WORK_DIR}/gcore.core")
  endif()
  run_live(live ${TARGET} "" "Breakpoint 1, stop_here" at_stop_here ${commands} ${end_live})
  check(live)
  expect_frames("live: stepping ends the selection" "${live_stepped}"
    "running_body;coro_main" "descend")
  expect_frames("live: a function call keeps the selection" "${live_called}"
    "descend;descend;descend;recursing_body" "stop_here")
  expect_frames("live: a function call keeps a normal coroutine's selection"
    "${live_normal-called}" "outer_body;coro_main" "stop_here;running_body")
  expect("live: a fresh unwind after the coroutine ran" "${live_unwound}"
    "^#1 +[^\n]* in running_body \\(")
  expect("live: the coroutine ended" "${live_moving-list}"
    "^<Coroutine 1 ended in a function gdb called: it is no longer selected>\n")
  expect_frames("live: resuming the coroutine ends the selection" "${live_moved}"
    "stop_here;running_body;coro_main" "descend")
  expect("live: bt after the coroutine was destroyed" "${live_destroyed}"
    "^<Coroutine 3 was destroyed by a function gdb called: it is no longer selected>\n")
  expect_frames("live: bt after the coroutine was destroyed" "${live_destroyed}"
    "stop_here;running_body;coro_main" "coro_yield_from;delegating_body")

  set(nothing "")
  run_live(none ${TARGET} none "Breakpoint 1, stop_here" at_stop_here ${none_commands} "kill")
  check_none(none)
  run_live(stripped ${STRIPPED} crash "SIGABRT" nothing ${stripped_commands} "kill")
  check_stripped(stripped)
  if(NOT RUNNER)
    run_gdb(gcore "file ${TARGET}" "core-file ${WORK_DIR}/gcore.core" ${none_commands})
    expect("gcore's core file: why no coroutine is found" "${gcore_output}"
      "No coroutines found\\. If this is a core file that gdb's gcore wrote")
  endif()
elseif(PART STREQUAL "core")
  # A core file of the same program stopped by abort() in the same place:
  # the kernel's, or qemu's. (gdb's own gcore cannot save these stacks: its
  # reads of a guard region fail and it drops the rest of the mapping.)
  set(runner "")
  set(pattern "")
  if(EXISTS /proc/sys/kernel/core_pattern)
    file(READ /proc/sys/kernel/core_pattern pattern)
    string(STRIP "${pattern}" pattern)
  endif()
  if(NOT RUNNER AND (pattern MATCHES "^\\|" OR pattern MATCHES "/"))
    message("SKIPPED: the kernel writes core files to '${pattern}', "
      "not to the working directory")
    return()
  endif()
  make_core(main ${TARGET} "" core_file)
  if(NOT core_file)
    message("SKIPPED: ${core_file_why}")
    return()
  endif()
  run_gdb(core "file ${TARGET}" "core-file ${core_file}" ${commands})
  check(core)
  expect("core: gdb read the core file" "${core_output}" "Core was generated by .*gdb_target crash")
  # The others, where that one worked: each in a directory of its own.
  make_core(none ${TARGET} none core_file)
  if(NOT core_file)
    fail("core_none: ${core_file_why}")
  else()
    run_gdb(core_none "file ${TARGET}" "core-file ${core_file}" ${none_commands})
    check_none(core_none)
  endif()
  make_core(stripped ${STRIPPED} "" core_file)
  if(NOT core_file)
    fail("core_stripped: ${core_file_why}")
  else()
    run_gdb(core_stripped "file ${STRIPPED}" "core-file ${core_file}" ${stripped_commands})
    check_stripped(core_stripped)
  endif()
else()
  message(FATAL_ERROR "PART is live or core, not '${PART}'")
endif()

if(failures GREATER 0)
  message(FATAL_ERROR "${failures} checks failed; the core files are in ${WORK_DIR}")
endif()
# Hundreds of MiB each (qemu's own core too): kept only for a failure.
file(REMOVE_RECURSE ${WORK_DIR})
message("all gdb checks passed")
