// Writes a small synthetic phantom case folder (data module) for the `xraylift render` CLI tests.
// (A separate, torch-free program: data::save_case crashes inside the torch-linked xraylift binary, where
// std::filesystem::remove_all resolves to libtorch's copy; see docs/drr.md.)
#include <cstdio>

#include "xraylift/data/phantom.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CASE_DIR\n", argv[0]);
    return 2;
  }
  xraylift::data::PhantomSpec spec;
  spec.seed = 5;
  spec.dims = {96, 96, 64};
  spec.spacing_mm = {3.5, 3.5, 5.0};
  spec.nodules = 3;
  spec.nodule_min_diameter_mm = 10;
  spec.nodule_max_diameter_mm = 20;
  spec.vessels = false;
  xraylift::data::save_case(argv[1], xraylift::data::generate_phantom(spec).ct);
  return 0;
}
