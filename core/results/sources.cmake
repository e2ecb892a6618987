list(APPEND QB_CORE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/import.cpp
  ${CMAKE_CURRENT_LIST_DIR}/lm_eval.cpp
  ${CMAKE_CURRENT_LIST_DIR}/nll_sidecar.cpp
  ${CMAKE_CURRENT_LIST_DIR}/record.cpp
  ${CMAKE_CURRENT_LIST_DIR}/store.cpp
)
