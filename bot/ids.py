"""Action and block ids: the contract between rendered messages and their listeners."""

FEEDBACK_UP = "jb_feedback_up"
FEEDBACK_DOWN = "jb_feedback_down"
SHARE = "jb_share_to_channel"
SHOW_MORE = "jb_show_more"
PICK_CHOICE = "jb_pick_choice"
CHURN_ACK = "jb_churn_ack"
CHURN_SNOOZE = "jb_churn_snooze"
SENT_IT = "jb_sent_it"

FEEDBACK_BLOCK = "jb_feedback"
ACTIONS_BLOCK = "jb_actions"
HOME_BLOCK = "jb_home"
