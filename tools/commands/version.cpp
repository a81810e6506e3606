// `xraylift version`: what this build links and what it can run on.
#include <dcmtk/dcmdata/dcuid.h>
#include <torch/cuda.h>
#include <torch/version.h>
#include <yaml-cpp/yaml.h>

#include <Eigen/Core>
#include <cstdio>
#include <opencv2/core/version.hpp>

#include "../command.hpp"
#include "xraylift/core/device.hpp"

// Named, not anonymous: the torch commands are compiled as one unity file (docs/BUILDING.md "Build time").
namespace version_command {

xraylift::tools::Runner setup(CLI::App&) {
  return [] {
    std::printf("xraylift   %s\n", XRAYLIFT_VERSION);
    std::printf("libtorch   %s (CUDA available to torch: %s)\n", TORCH_VERSION,
                torch::cuda::is_available() ? "yes" : "no");
    std::printf("CUDA       %s\n", xraylift::core::cuda_description().c_str());
    std::printf("OpenCV     %s\n", CV_VERSION);
    std::printf("DCMTK      %s\n", OFFIS_DCMTK_VERSION_STRING);
    std::printf("Eigen      %d.%d.%d\n", EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION);
    return 0;
  };
}

}  // namespace version_command

XL_REGISTER_COMMAND("version", "Print versions of xraylift, libtorch, CUDA, OpenCV, DCMTK", version_command::setup);
