# Every third-party dependency, found once. All come from Debian packages that
# scripts/install-deps.sh installs.
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(cpprestsdk REQUIRED)
find_package(yaml-cpp REQUIRED)        # 0.7: the target is plain `yaml-cpp`
find_package(prometheus-cpp REQUIRED)
find_package(ZLIB REQUIRED)             # the informer cache's deflated texts
find_package(Boost 1.74 REQUIRED COMPONENTS program_options system)
find_package(GTest REQUIRED)
# Kubernetes protobuf request bodies in zkop-devkube (libprotobuf-dev, protobuf-compiler);
# CMake's FindProtobuf module: protobuf::libprotobuf and protobuf_generate().
find_package(Protobuf REQUIRED)

# The ZooKeeper C client ships neither a CMake config nor a pkg-config file.
find_path(ZOOKEEPER_INCLUDE_DIR zookeeper/zookeeper.h REQUIRED)
find_library(ZOOKEEPER_MT_LIBRARY NAMES zookeeper_mt REQUIRED)
add_library(zookeeper_mt UNKNOWN IMPORTED)
set_target_properties(zookeeper_mt PROPERTIES
  IMPORTED_LOCATION ${ZOOKEEPER_MT_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${ZOOKEEPER_INCLUDE_DIR}
  INTERFACE_COMPILE_DEFINITIONS THREADED)

# cpprestsdk's exported target does not carry its OpenSSL link.
add_library(zkop_cpprest INTERFACE)
target_link_libraries(zkop_cpprest INTERFACE cpprestsdk::cpprest OpenSSL::SSL OpenSSL::Crypto)
