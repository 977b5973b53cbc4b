#pragma once
// How many TCP segments carrying data a socket has received (TCP_INFO tcpi_data_segs_in,
// Linux 4.6+): what tells one send() of five frames from five sends of one, which the bytes
// read cannot. In its own file because <linux/tcp.h>, which has the field, and glibc's
// <netinet/tcp.h>, which does not, cannot be included together.
#include <cstdint>

namespace duplex::test {

// The count, or -1 when the kernel does not report it.
int64_t dataSegmentsIn(int fd);

}  // namespace duplex::test
