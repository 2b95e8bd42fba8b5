// PeakRss and ResetPeakRss: see peak_memory.h.
#include "base/peak_memory.h"

#include <cstdlib>
#include <fstream>
#include <string>

namespace elm {

int64_t PeakRss() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0)
      return std::atoll(line.c_str() + 6) * 1024;
  }
  return -1;
}

bool ResetPeakRss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.close();
  return clear.good() && PeakRss() > 0;
}

}  // namespace elm
