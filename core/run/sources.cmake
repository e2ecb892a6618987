list(APPEND QB_CORE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/runner.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sweep.cpp
  ${CMAKE_CURRENT_LIST_DIR}/run_lock.cpp
  ${CMAKE_CURRENT_LIST_DIR}/slurm.cpp
  ${CMAKE_CURRENT_LIST_DIR}/model_backend.cpp
)
# These sources do not use libtorch: skipping the libtorch precompiled header makes them compile
# in seconds instead of loading a ~700 MB PCH per file.
foreach(_f IN ITEMS ${QB_CORE_SOURCES})
  if(_f MATCHES "/core/(data|results|report)/" OR _f MATCHES "/core/run/(runner|sweep|run_lock|slurm)\\.cpp$" OR _f MATCHES "/core/eval/tasks\\.cpp$")
    set_source_files_properties(${_f} PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
  endif()
endforeach()
