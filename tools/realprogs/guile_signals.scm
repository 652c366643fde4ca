;; SPDX-License-Identifier: BSD-2-Clause
;;
;; guile_signals.scm -- guile-3.0's signals, children and pipes for
;; tools/realprogs.sh: handlers run by guile's signal-delivery thread
;; (SIGUSR1 sent to itself from a busy thread, an alarm ending a sleep),
;; primitive-fork and waitpid, system*, pipes opened from 6 threads, and
;; a SIGTERM handler that exits with status 5.
(use-modules (ice-9 threads) (ice-9 popen) (ice-9 rdelim))

(define hits 0)
(define alarmed #f)
(sigaction SIGUSR1 (lambda (s) (set! hits (+ hits 1))))
(sigaction SIGALRM (lambda (s) (set! alarmed #t)))
(alarm 1)
(sleep 5)
(usleep 10000)			; the handler's async has run by now
(display (list 'alarmed alarmed)) (newline)
(define t (call-with-new-thread
           (lambda ()
             (let loop ((i 0))
               (if (< i 20) (begin (usleep 10000) (loop (+ i 1))) i)))))
(do ((i 0 (+ i 1))) ((= i 10)) (kill (getpid) SIGUSR1) (usleep 20000))
(usleep 100000)
(display (list 'joined (join-thread t) 'hits hits)) (newline)
(let* ((p (open-input-pipe "echo hello; seq 1 3")) (l (read-string p)))
  (display l) (close-pipe p))
(display (list 'system (status:exit-val (system* "sh" "-c" "exit 3"))))
(newline)
(force-output)
(let ((pid (primitive-fork)))
  (if (= pid 0)
      (primitive-exit 7)
      (display (list 'fork (status:exit-val (cdr (waitpid pid)))))))
(newline)
(define ths (map (lambda (i)
                   (call-with-new-thread
                    (lambda ()
                      (let* ((p (open-input-pipe (format #f "echo ~a" i)))
                             (s (read-line p)))
                        (close-pipe p) s))))
                 (iota 6)))
(display (map join-thread ths)) (newline)
(force-output)
(sigaction SIGTERM (lambda (s) (display "term") (newline) (exit 5)))
(kill (getpid) SIGTERM)
(sleep 3)
(display "not reached") (newline)
