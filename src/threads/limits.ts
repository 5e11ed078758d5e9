/** Most pieces and tasks in one batch (larger lists are run in several batches). */
export const MAX_PIECES = 4096;
export const MAX_TASKS = 256;
