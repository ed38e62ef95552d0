// SPDX-License-Identifier: GPL-2.0
/* The layout table for the init-time self-check. */
#include "internal.h"

unsigned long mosix_c_layout(unsigned int item)
{
	switch (item) {
	case MOSIX_L_TASK_SIZE: return sizeof(struct task_struct);
	case MOSIX_L_TASK_PID: return offsetof(struct task_struct, pid);
	case MOSIX_L_TASK_TGID: return offsetof(struct task_struct, tgid);
	case MOSIX_L_TASK_MM: return offsetof(struct task_struct, mm);
	case MOSIX_L_TASK_REAL_PARENT: return offsetof(struct task_struct, real_parent);
	case MOSIX_L_REGS_SIZE: return sizeof(struct pt_regs);
	case MOSIX_L_REGS_ORIG_AX: return offsetof(struct pt_regs, orig_ax);
	case MOSIX_L_REGS_AX: return offsetof(struct pt_regs, ax);
	case MOSIX_L_REGS_IP: return offsetof(struct pt_regs, ip);
	case MOSIX_L_REGS_SP: return offsetof(struct pt_regs, sp);
	case MOSIX_L_PROC_SAMPLE_SIZE: return sizeof(struct mosix_proc_sample);
	case MOSIX_L_VMA_SIZE: return sizeof(struct mosix_vma);
	case MOSIX_L_TASK_FACTS_SIZE: return sizeof(struct mosix_task_facts);
	default: return ~0UL;
	}
}
