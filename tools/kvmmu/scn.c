// SPDX-License-Identifier: MIT
/*
 * Running scenarios from the command line: collecting files and
 * directories, one result line per scenario, progress for long ones.
 * Shared by kvmmu run, kvmmu stat and kvmmu demo.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <kvmmu/backend.h>
#include <kvmmu/scenario.h>

#include "cli.h"

#define SCN_EXT ".kvs"

static int scn_add(struct cli_scn_list *l, const char *path)
{
	char **p;

	if (l->n == l->cap) {
		unsigned int cap = l->cap ? 2 * l->cap : 32;

		p = realloc(l->paths, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		l->paths = p;
		l->cap = cap;
	}
	l->paths[l->n] = strdup(path);
	if (!l->paths[l->n])
		return -ENOMEM;
	l->n++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_ext(const char *name)
{
	size_t n = strlen(name), e = strlen(SCN_EXT);

	return n > e && !strcmp(name + n - e, SCN_EXT);
}

int cli_scn_collect(struct cli_scn_list *l, const char *arg)
{
	unsigned int first = l->n;
	struct dirent *d;
	struct stat st;
	DIR *dir;
	int r = 0;

	if (stat(arg, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return scn_add(l, arg);
	dir = opendir(arg);
	if (!dir)
		return -errno;
	while (!r && (d = readdir(dir))) {
		char path[4096];

		if (d->d_name[0] == '.' || !has_ext(d->d_name))
			continue;
		snprintf(path, sizeof(path), "%s%s%s", arg,
			 arg[strlen(arg) - 1] == '/' ? "" : "/", d->d_name);
		r = scn_add(l, path);
	}
	closedir(dir);
	if (!r && l->n == first)
		return -ENOENT; /* a directory without scenarios */
	qsort(l->paths + first, l->n - first, sizeof(*l->paths), cmp_str);
	return r;
}

void cli_scn_free(struct cli_scn_list *l)
{
	unsigned int i;

	for (i = 0; i < l->n; i++)
		free(l->paths[i]);
	free(l->paths);
	memset(l, 0, sizeof(*l));
}

/* --- progress ------------------------------------------------------------------ */

struct scn_progress {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	const char *name;
	const struct kvmmu_sc_result *res;
	FILE *out;
};

static void *progress_fn(void *arg)
{
	struct scn_progress *p = arg;
	unsigned int secs = 0;
	struct timespec ts;

	pthread_mutex_lock(&p->lock);
	clock_gettime(CLOCK_REALTIME, &ts);
	while (!p->stop) {
		ts.tv_sec++;
		if (pthread_cond_timedwait(&p->cond, &p->lock, &ts) !=
		    ETIMEDOUT)
			continue;
		secs++;
		fprintf(p->out, "      ... %s: %u s, %lu steps\n", p->name,
			secs,
			__atomic_load_n(&p->res->steps, __ATOMIC_RELAXED));
		fflush(p->out);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static const char *const status_word[] = {
	[KVMMU_SC_PASS] = "PASS",
	[KVMMU_SC_FAIL] = "FAIL",
	[KVMMU_SC_SKIP] = "SKIP",
};

enum kvmmu_sc_status cli_scn_run_text(const struct cli_scn_opts *o,
				      const char *name, const char *text,
				      size_t len, struct cli_scn_totals *t)
{
	struct kvmmu_sc_options so = {
		.backend = o->backend,
		.compare = o->compare,
		.trace = o->trace,
		.stat_fn = o->stat_fn,
		.stat_arg = o->stat_arg,
		.implicit_check = true,
	};
	struct scn_progress p = { .name = name, .out = o->out };
	struct kvmmu_scenario *sc = NULL;
	struct kvmmu_sc_result res = { 0 };
	pthread_t tid;
	bool progress = false;
	char err[512];

	if (kvmmu_scenario_parse(name, text, len, &sc, err, sizeof(err))) {
		res.status = KVMMU_SC_FAIL;
		snprintf(res.msg, sizeof(res.msg), "%s", err);
	} else {
		if (!o->quiet) {
			pthread_mutex_init(&p.lock, NULL);
			pthread_cond_init(&p.cond, NULL);
			p.res = &res;
			progress = !pthread_create(&tid, NULL, progress_fn, &p);
		}
		kvmmu_scenario_run(sc, &so, &res);
		if (progress) {
			pthread_mutex_lock(&p.lock);
			p.stop = true;
			pthread_cond_signal(&p.cond);
			pthread_mutex_unlock(&p.lock);
			pthread_join(tid, NULL);
		}
		if (!o->quiet) {
			pthread_cond_destroy(&p.cond);
			pthread_mutex_destroy(&p.lock);
		}
	}
	kvmmu_scenario_free(sc);
	fprintf(o->out, "%s  %7.3fs  %s", status_word[res.status], res.seconds,
		name);
	if (o->compare && res.status == KVMMU_SC_PASS)
		fprintf(o->out, "  (%s = %s: %lu observations)",
			o->backend->name, o->compare->name, res.compared);
	fputc('\n', o->out);
	if (o->compare && res.status == KVMMU_SC_PASS) {
		t->compared++;
		t->observations += res.compared;
	}
	if (res.status != KVMMU_SC_PASS)
		fprintf(o->out, "      %s\n", res.msg);
	fflush(o->out);
	t->seconds += res.seconds;
	t->steps += res.steps;
	switch (res.status) {
	case KVMMU_SC_PASS:
		t->pass++;
		break;
	case KVMMU_SC_FAIL:
		t->fail++;
		break;
	case KVMMU_SC_SKIP:
		t->skip++;
		break;
	}
	return res.status;
}

enum kvmmu_sc_status cli_scn_run_file(const struct cli_scn_opts *o,
				      const char *path,
				      struct cli_scn_totals *t)
{
	char err[512];
	FILE *f;
	char *buf;
	long n;
	enum kvmmu_sc_status st;

	/* Read it here (not kvmmu_scenario_load) to run it by text. */
	f = fopen(path, "rb");
	if (!f) {
		snprintf(err, sizeof(err), "%s: %s", path, strerror(errno));
		goto fail;
	}
	buf = NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) || !(buf = malloc(n ? (size_t)n : 1)) ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		snprintf(err, sizeof(err), "%s: cannot read: %s", path,
			 strerror(errno ? errno : EIO));
		free(buf);
		fclose(f);
		goto fail;
	}
	fclose(f);
	st = cli_scn_run_text(o, path, buf, (size_t)n, t);
	free(buf);
	return st;
fail:
	fprintf(o->out, "FAIL  %7.3fs  %s\n      %s\n", 0.0, path, err);
	t->fail++;
	return KVMMU_SC_FAIL;
}

void cli_scn_summary(FILE *out, const struct cli_scn_totals *t)
{
	fprintf(out, "%u passed, %u failed, %u skipped (%lu steps, %.2f s)\n",
		t->pass, t->fail, t->skip, t->steps, t->seconds);
	if (t->compared)
		fprintf(out,
			"%u scenarios compared on both backends, %lu "
			"observations agreed\n",
			t->compared, t->observations);
}

int cli_scn_args(const char *cmd, const char *synopsis, int argc, char **argv,
		 int first, struct cli_scn_list *l)
{
	int i, err;

	if (first >= argc)
		return cli_bad_usage(cmd, synopsis,
				     "which scenarios? (a file or directory)");
	for (i = first; i < argc; i++) {
		err = cli_scn_collect(l, argv[i]);
		if (err) {
			cli_scn_free(l);
			return cli_bad_usage(cmd, synopsis, "%s: %s", argv[i],
					     err == -ENOENT ?
						     "no such file, or no "
						     "*.kvs in the directory" :
						     strerror(-err));
		}
	}
	return CLI_EXIT_OK;
}

int cli_scn_backend(const char *cmd, const char *synopsis, const char *arg,
		    bool both_ok, struct cli_scn_opts *o)
{
	char names[128] = "";
	size_t n = 0;
	unsigned int i;

	o->compare = NULL;
	if (both_ok && !strcmp(arg, "both")) {
		o->backend = kvmmu_backend_find("model");
		o->compare = kvmmu_backend_find("kvm");
		if (o->backend && o->compare)
			return CLI_EXIT_OK;
	}
	o->backend = kvmmu_backend_find(arg);
	if (o->backend)
		return CLI_EXIT_OK;
	for (i = 0; kvmmu_backend_names[i] && n < sizeof(names); i++)
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
				      i ? ", " : "", kvmmu_backend_names[i]);
	if (both_ok && n < sizeof(names))
		snprintf(names + n, sizeof(names) - n, ", both");
	return cli_bad_usage(cmd, synopsis,
			     "--backend: '%s' is not a backend (%s)", arg,
			     names);
}
