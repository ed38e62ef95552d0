// SPDX-License-Identifier: GPL-2.0
/* The registers of the current system call (forwarding and the deputy's stub). */
#include "internal.h"

void mosix_call_args(u64 *args)
{
	struct pt_regs *regs = current_pt_regs();

	args[0] = regs->di;
	args[1] = regs->si;
	args[2] = regs->dx;
	args[3] = regs->r10;
	args[4] = regs->r8;
	args[5] = regs->r9;
}

void mosix_call_result(long nr, long ret)
{
	struct pt_regs *regs = current_pt_regs();

	regs->orig_ax = nr;
	regs->ax = ret;
}

void mosix_call_start(u64 ip, long nr, const u64 *args)
{
	struct pt_regs *regs = current_pt_regs();

	regs->ip = ip;
	regs->ax = nr;
	regs->di = args[0];
	regs->si = args[1];
	regs->dx = args[2];
	regs->r10 = args[3];
	regs->r8 = args[4];
	regs->r9 = args[5];
}

long mosix_call_handed_back(void)
{
	return (long)current_pt_regs()->di;
}

bool mosix_call_no_restart(long nr)
{
	struct pt_regs *regs = current_pt_regs();
	long ax = (long)regs->ax;

	if ((long)regs->orig_ax != nr)
		return false;
	if (ax != -ERESTARTSYS && ax != -ERESTARTNOINTR && ax != -ERESTARTNOHAND &&
	    ax != -ERESTART_RESTARTBLOCK)
		return false;
	regs->orig_ax = -1;
	return true;
}

bool mosix_call_skip_unstarted(u64 stub)
{
	struct pt_regs *regs = current_pt_regs();

	if (regs->ip != stub)
		return false;
	/* After the stub's syscall instruction, as if the call had said -ERESTARTNOINTR; no
	 * restart (orig_ax -1) that would take it back to the instruction. */
	regs->ip = stub + 2;
	regs->ax = -ERESTARTNOINTR;
	regs->orig_ax = -1;
	return true;
}
