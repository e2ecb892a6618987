list(APPEND QB_CORE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/config.cpp
  ${CMAKE_CURRENT_LIST_DIR}/make_model.cpp
  ${CMAKE_CURRENT_LIST_DIR}/safetensors.cpp
)
