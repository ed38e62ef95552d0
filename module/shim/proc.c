// SPDX-License-Identifier: GPL-2.0
/* The /proc/mosix plumbing: one proc_ops for every file, whose show and write call Rust. */
#include "internal.h"

static int mosix_proc_show_op(struct seq_file *m, void *v)
{
	return mosix_proc_show(m, (unsigned long)m->private);
}

static int mosix_proc_open(struct inode *inode, struct file *file)
{
	/* Checked at open, with the opener's credentials (not at write time). */
	if (file->f_mode & FMODE_WRITE) {
		int err = mosix_proc_may_write((unsigned long)pde_data(inode));

		if (err)
			return err;
	}
	return single_open(file, mosix_proc_show_op, pde_data(inode));
}

static ssize_t mosix_proc_write_op(struct file *file, const char __user *ubuf, size_t count,
				   loff_t *ppos)
{
	unsigned long cookie = (unsigned long)pde_data(file_inode(file));
	size_t len = min_t(size_t, count, MOSIX_PROC_WRITE_MAX);
	char *buf;
	long ret;

	buf = memdup_user_nul(ubuf, len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	ret = mosix_proc_write(cookie, buf, len, count);
	kfree(buf);
	return ret < 0 ? ret : (ssize_t)count;
}

static const struct proc_ops mosix_proc_ops = {
	.proc_open = mosix_proc_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
	.proc_write = mosix_proc_write_op,
};

struct proc_dir_entry *mosix_proc_mkdir(const char *name, struct proc_dir_entry *parent)
{
	return proc_mkdir(name, parent);
}

struct proc_dir_entry *mosix_proc_file(const char *name, umode_t mode,
				       struct proc_dir_entry *parent, unsigned long cookie)
{
	return proc_create_data(name, mode, parent, &mosix_proc_ops, (void *)cookie);
}

void mosix_proc_remove(struct proc_dir_entry *pde)
{
	proc_remove(pde);
}
