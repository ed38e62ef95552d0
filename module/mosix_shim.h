/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C side of mosix.ko: what the 7.3 Rust bindings do not reach (procfs, inline helpers,
 * macros). Logic-free: every decision is made in Rust.
 */
#ifndef MOSIX_SHIM_H
#define MOSIX_SHIM_H

#include <linux/types.h>

struct proc_dir_entry;
struct seq_file;
struct socket;

/* Largest write accepted by a /proc/mosix file (the node table in map form). */
#define MOSIX_PROC_WRITE_MAX 16384

/* procfs: directories and files whose callbacks are mosix_proc_show/mosix_proc_write. */
struct proc_dir_entry *mosix_proc_mkdir(const char *name, struct proc_dir_entry *parent);
struct proc_dir_entry *mosix_proc_file(const char *name, umode_t mode,
				       struct proc_dir_entry *parent, unsigned long cookie);
void mosix_proc_remove(struct proc_dir_entry *pde);

/* Implemented in Rust (module/procfs.rs). */
int mosix_proc_show(struct seq_file *m, unsigned long cookie);
long mosix_proc_write(unsigned long cookie, const char *buf, size_t len, size_t total);

/* System facts that are macros or unbound variables. */
unsigned int mosix_online_cpus(void);
/* Runnable user threads right now (RCU walk of every thread; kernel threads not counted). */
unsigned int mosix_count_runnable(void);
/* Sleeps interruptibly for up to ms milliseconds (a kthread_stop() wakes it). */
void mosix_sleep_ms(unsigned int ms);

/* Sets a socket's receive timeout (sk_rcvtimeo, at least one jiffy). */
void mosix_sock_set_rcvtimeo(struct socket *sock, unsigned int ms);

/* Layout self-check: C's view of the offsets and sizes the Rust bindings rely on. */
enum mosix_layout_item {
	MOSIX_L_TASK_SIZE,
	MOSIX_L_TASK_PID,
	MOSIX_L_TASK_TGID,
	MOSIX_L_TASK_MM,
	MOSIX_L_TASK_REAL_PARENT,
	MOSIX_L_REGS_SIZE,
	MOSIX_L_REGS_ORIG_AX,
	MOSIX_L_REGS_AX,
	MOSIX_L_REGS_IP,
	MOSIX_L_REGS_SP,
	MOSIX_L_COUNT,
};
unsigned long mosix_c_layout(unsigned int item);

#endif /* MOSIX_SHIM_H */
