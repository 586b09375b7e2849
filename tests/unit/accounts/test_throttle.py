"""Login throttling (pure): exponential back-off per account and per address, and an address in
back-off that still admits an account nobody has failed on."""

from callcenter.accounts.throttle import BackOff, Standing, Throttle


def test_the_back_off_doubles_past_the_free_failures_up_to_its_cap():
    b = BackOff(free=3, first_s=5.0, max_s=900.0)
    assert [b.after(n) for n in range(7)] == [0, 0, 0, 0, 5.0, 10.0, 20.0]
    assert b.after(50) == 900.0 and b.after(10**6) == 900.0


def test_an_account_in_back_off_is_refused_before_its_password_is_checked():
    t = Throttle()
    assert t.refuse_for(Standing(account_failures=4, account_wait_s=4.2)) == 5  # Retry-After, whole seconds
    assert t.refuse_for(Standing()) == 0


def test_an_address_in_back_off_refuses_only_accounts_that_failed_recently():
    t = Throttle()
    assert t.refuse_for(Standing(account_failures=0, address_wait_s=600)) == 0  # the hall's next agent
    assert t.refuse_for(Standing(account_failures=1, address_wait_s=600)) == 600
    assert t.refuse_for(Standing(account_failures=1, account_wait_s=10, address_wait_s=0.5)) == 10
