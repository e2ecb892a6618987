list(APPEND QB_CORE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/scheme.cpp
  ${CMAKE_CURRENT_LIST_DIR}/fake_quant.cpp
  ${CMAKE_CURRENT_LIST_DIR}/quant_linear.cpp
  ${CMAKE_CURRENT_LIST_DIR}/model_quantizer.cpp
)
