;; SPDX-License-Identifier: BSD-2-Clause
;;
;; guile_threads.scm -- guile-3.0's threads for tools/realprogs.sh:
;; par-map, a mutex from 8 threads, a queue under a condition
;; variable with timed waits, and allocation with explicit (gc) from N
;; threads (the first argument, 200 in the case), which makes Boehm GC
;; stop the world with pthread_kill and sigsuspend over and over.  The
;; output is the same on every run.  No futures: (ice-9 futures) with 16
;; futures over 100000-element folds died of SIGSEGV natively in 7 runs
;; of 10 (guile 3.0.8, Debian 12), and never under greenrun.
(use-modules (ice-9 threads) (srfi srfi-1))

(define n-threads (string->number (cadr (command-line))))
(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(display (par-map fib (iota 20 5))) (newline)

(define m (make-mutex))
(define c 0)
(for-each join-thread
          (map (lambda (i)
                 (call-with-new-thread
                  (lambda ()
                    (do ((k 0 (+ k 1))) ((= k 20000))
                      (with-mutex m (set! c (+ c 1)))
                      (when (= 0 (modulo k 1000)) (make-list 1000 k))))))
               (iota 8)))
(display c) (newline)

(define (work i)
  (let loop ((k 0) (keep '()) (sum 0))
    (if (= k 3000)
        sum
        (let ((v (make-vector (+ 10 (modulo (* k i) 500)) k)))
          (when (= 0 (modulo k 1000)) (gc))
          (loop (+ k 1) (if (> (length keep) 100) (list v) (cons v keep))
                (+ sum (vector-length v)))))))
(define ths (map (lambda (i) (call-with-new-thread (lambda () (work i))))
                 (iota n-threads)))
(display (apply + (map join-thread ths))) (newline)

;; Consumers wait with a 1 s timeout; once it has run out they poll.
(define mx (make-mutex))
(define cv (make-condition-variable))
(define q '())
(define done #f)
(define consumers
  (map (lambda (i)
         (call-with-new-thread
          (lambda ()
            (let loop ((got 0))
              (lock-mutex mx)
              (let wait ()
                (when (and (null? q) (not done))
                  (wait-condition-variable cv mx (+ (current-time) 1))
                  (wait)))
              (if (null? q)
                  (begin (unlock-mutex mx) got)
                  (let ((x (car q)))
                    (set! q (cdr q))
                    (unlock-mutex mx)
                    (loop (+ got x))))))))
       (iota 4)))
(do ((i 1 (+ i 1))) ((> i 5000))
  (with-mutex mx (set! q (cons i q)) (signal-condition-variable cv))
  (when (= 0 (modulo i 500)) (gc)))
(with-mutex mx (set! done #t) (broadcast-condition-variable cv))
(display (apply + (map join-thread consumers))) (newline)
(gc)
(display "done") (newline)
