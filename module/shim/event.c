// SPDX-License-Identifier: GPL-2.0
/* Events (a sequence count and a wait queue) and the socket callbacks that advance them. */
#include "internal.h"

struct mosix_event {
	wait_queue_head_t wq;
	atomic_t seq;
};

struct mosix_event *mosix_event_new(void)
{
	struct mosix_event *e = kzalloc(sizeof(*e), GFP_KERNEL);

	if (e)
		init_waitqueue_head(&e->wq);
	return e;
}

void mosix_event_free(struct mosix_event *e)
{
	kfree(e);
}

u32 mosix_event_seq(struct mosix_event *e)
{
	return (u32)atomic_read_acquire(&e->seq);
}

void mosix_event_signal(struct mosix_event *e)
{
	atomic_inc_return_release(&e->seq);
	wake_up_all(&e->wq);
}

int mosix_event_wait(struct mosix_event *e, u32 seen, unsigned int ms, bool intr)
{
	long t = msecs_to_jiffies(ms), r;

	if (intr)
		r = wait_event_interruptible_timeout(e->wq, (u32)atomic_read_acquire(&e->seq) != seen, t);
	else
		r = wait_event_idle_timeout(e->wq, (u32)atomic_read_acquire(&e->seq) != seen, t);
	if (r < 0)
		return (int)r;
	return r > 0 ? 1 : 0;
}

/* A socket whose arrivals (and state changes) advance an event. */
struct mosix_sock_hook {
	struct mosix_event *ev;
	void (*data_ready)(struct sock *sk);
	void (*state_change)(struct sock *sk);
};

/* Runs the socket's own callback, then advances the event. */
static void mosix_sk_notify(struct sock *sk, bool data)
{
	struct mosix_sock_hook *h;

	read_lock_bh(&sk->sk_callback_lock);
	h = sk->sk_user_data;
	if (h) {
		if (data)
			h->data_ready(sk);
		else
			h->state_change(sk);
		mosix_event_signal(h->ev);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

static void mosix_sk_data_ready(struct sock *sk)
{
	mosix_sk_notify(sk, true);
}

static void mosix_sk_state_change(struct sock *sk)
{
	mosix_sk_notify(sk, false);
}

int mosix_sock_hook(struct socket *sock, struct mosix_event *ev)
{
	struct sock *sk = sock->sk;
	struct mosix_sock_hook *h = kmalloc(sizeof(*h), GFP_KERNEL);

	if (!h)
		return -ENOMEM;
	h->ev = ev;
	write_lock_bh(&sk->sk_callback_lock);
	if (sk->sk_user_data) {
		write_unlock_bh(&sk->sk_callback_lock);
		kfree(h);
		return -EBUSY;
	}
	h->data_ready = sk->sk_data_ready;
	h->state_change = sk->sk_state_change;
	sk->sk_user_data = h;
	sk->sk_data_ready = mosix_sk_data_ready;
	sk->sk_state_change = mosix_sk_state_change;
	write_unlock_bh(&sk->sk_callback_lock);
	return 0;
}

void mosix_sock_unhook(struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct mosix_sock_hook *h;

	write_lock_bh(&sk->sk_callback_lock);
	h = sk->sk_user_data;
	if (h) {
		sk->sk_data_ready = h->data_ready;
		sk->sk_state_change = h->state_change;
		sk->sk_user_data = NULL;
	}
	write_unlock_bh(&sk->sk_callback_lock);
	/* No callback runs on h now: they hold the callback lock for reading. */
	kfree(h);
}
