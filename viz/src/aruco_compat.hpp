#pragma once
// OpenCV moved ArUco from contrib (4.6, Debian 12) to objdetect (4.7+): one switch for the whole module.
#include <opencv2/core/version.hpp>
#if CV_VERSION_MAJOR > 4 || (CV_VERSION_MAJOR == 4 && CV_VERSION_MINOR >= 7)
#include <opencv2/objdetect/aruco_detector.hpp>
#define XRAYLIFT_ARUCO_OBJDETECT 1
#else
#include <opencv2/aruco.hpp>
#define XRAYLIFT_ARUCO_OBJDETECT 0
#endif
