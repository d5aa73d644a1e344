// Waits for a condition that an I/O thread makes true, without guessing how long it takes:
// polls until it holds or a generous limit passes (the limit only turns a hang into a failure).
#pragma once

#include <chrono>
#include <thread>

namespace rio::testing {

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace rio::testing
