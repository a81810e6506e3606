#pragma once
// The two numpy primitives the reference evaluators (pycocotools, nuScenes, LUNA16) are defined with,
// reproduced exactly so that our numbers agree with theirs to the last bit where it matters.
#include <vector>

namespace xraylift::eval {

// numpy.linspace(start, stop, num): start + i * ((stop - start) / (num - 1)), the last value set to stop.
std::vector<double> linspace(double start, double stop, int num);

// numpy.interp(x, xp, fp, left, right) for non-decreasing xp (ties allowed): below xp[0] -> left, above
// xp.back() -> right; at an x equal to a run of tied xp values, the value of the LAST of the run; between
// runs, linear between the last point at or below x and the first point above it. Empty xp -> left.
double interp(double x, const std::vector<double>& xp, const std::vector<double>& fp, double left, double right);
// With numpy's defaults left = fp.front(), right = fp.back().
double interp(double x, const std::vector<double>& xp, const std::vector<double>& fp);

}  // namespace xraylift::eval
