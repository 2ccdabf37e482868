// The system's zlib, for gzip in PprofProfile (Debian: zlib1g-dev; already linked through
// swift-nio-extras' HTTP decompression, which async-http-client uses).
#include <zlib.h>
