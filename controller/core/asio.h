// The one header that includes Boost.Asio/Beast. g++ 12 with Boost 1.74 needs <utility> before
// Asio when C++20 coroutines are enabled (reference/toolchain.md). Include this only from .cc files.
#pragma once

#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
