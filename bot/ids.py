"""Action and block ids: the contract between rendered messages and their listeners."""

FEEDBACK_UP = "jb_feedback_up"
FEEDBACK_DOWN = "jb_feedback_down"
SHARE = "jb_share_to_channel"
SHOW_MORE = "jb_show_more"
PICK_CHOICE = "jb_pick_choice"
CHURN_ACK = "jb_churn_ack"
CHURN_SNOOZE = "jb_churn_snooze"
SENT_IT = "jb_sent_it"
# Answer again in another stage: one id per button (Slack wants them unique in a block).
OTHER_STAGE = ("jb_other_stage_1", "jb_other_stage_2", "jb_other_stage_3")

FEEDBACK_BLOCK = "jb_feedback"
OTHER_STAGE_BLOCK = "jb_other_stages"
ACTIONS_BLOCK = "jb_actions"
HOME_BLOCK = "jb_home"
