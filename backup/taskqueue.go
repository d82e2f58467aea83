package backup

import "sync"

// taskQueue is the unbounded queue of directories to compare: it holds
// names only, so it grows with the number of directories, not objects.
type taskQueue struct {
	mu      sync.Mutex
	cond    *sync.Cond
	items   []task
	running int
	stopped bool
}

func newTaskQueue(first task) *taskQueue {
	q := &taskQueue{items: []task{first}}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *taskQueue) push(t task) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items = append(q.items, t)
	q.cond.Signal()
}

// pop waits for a task; it returns false when every task is done or the
// queue was aborted.
func (q *taskQueue) pop() (task, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 && q.running > 0 && !q.stopped {
		q.cond.Wait()
	}
	if q.stopped || len(q.items) == 0 {
		q.stopped = true
		q.cond.Broadcast()
		return task{}, false
	}
	t := q.items[0]
	q.items = q.items[1:]
	q.running++
	return t, true
}

// done marks a popped task finished.
func (q *taskQueue) done() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.running--
	if q.running == 0 && len(q.items) == 0 {
		q.cond.Broadcast()
	}
}

func (q *taskQueue) abort() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stopped = true
	q.cond.Broadcast()
}
