// SPDX-License-Identifier: GPL-2.0
/* Socket options the Rust bindings do not reach. */
#include "internal.h"

void mosix_sock_set_rcvtimeo(struct socket *sock, unsigned int ms)
{
	long t = msecs_to_jiffies(ms);

	WRITE_ONCE(sock->sk->sk_rcvtimeo, t > 0 ? t : 1);
}

void mosix_sock_set_sndtimeo(struct socket *sock, unsigned int ms)
{
	long t = msecs_to_jiffies(ms);

	WRITE_ONCE(sock->sk->sk_sndtimeo, t > 0 ? t : 1);
}

void mosix_sock_tune(struct socket *sock, bool reuseaddr, bool nodelay)
{
	if (reuseaddr)
		sock_set_reuseaddr(sock->sk);
	if (nodelay)
		tcp_sock_set_nodelay(sock->sk);
}
