#include "controller/core/clock.h"

namespace rio {

ClockPtr systemClock() {
  static const ClockPtr clock = std::make_shared<SystemClock>();
  return clock;
}

}  // namespace rio
