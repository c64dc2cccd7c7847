// The one translation unit that compiles Asio and Beast (separate compilation): ~40 s once,
// instead of in every file that includes them.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
